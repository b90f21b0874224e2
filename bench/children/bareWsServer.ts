import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { serveRpc, settledRss } from '../lib/childRpc';

/** The connections baseline: a bare `ws` server that holds sockets and can push one frame to each. */
let server: WebSocketServer | undefined;
const held = new Set<WebSocket>();
let rssBefore = 0;

serveRpc({
  async listen(): Promise<{ port: number; rss: number }> {
    server = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
    await new Promise<void>((r) => server?.once('listening', () => r()));
    server.on('connection', (ws) => {
      held.add(ws);
      ws.on('close', () => held.delete(ws));
      // Every client waits for a first frame, as Herald's clients wait for `hello`.
      ws.send(JSON.stringify({ type: 'hello' }));
    });
    rssBefore = settledRss();
    return { port: (server.address() as AddressInfo).port, rss: rssBefore };
  },
  measure: () => ({ held: held.size, rss: settledRss(), rssBefore }),
  pushToAll(): number {
    const frame = JSON.stringify({ type: 'message', item: { id: 'x', body: '' }, unread: 1 });
    for (const ws of held) ws.send(frame);
    return held.size;
  },
  async close(): Promise<null> {
    for (const ws of held) ws.terminate();
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    return null;
  },
});
