import WebSocket from 'ws';
import type { ServerFrame } from '../../../src/gateway/protocol';
import { wsUrl } from '../../gateway/support/wsClient';

/**
 * One user's frontend as a real one behaves: it holds a socket to one of the gateways, remembers every
 * item seq it was given (hello and message frames), and whenever the socket closes it connects again,
 * to the next gateway that answers, with `since` = the highest seq it holds (paging while `more`).
 */
export interface ResilientSocket {
  userId: string;
  seqs: Set<number>;
  reconnects(): number;
  /** Whether a socket is open right now. */
  open(): boolean;
  close(): void;
}

export function holdSocket(
  gateways: () => readonly string[],
  userId: string,
  token: string,
  startAt = 0,
): ResilientSocket {
  const seqs = new Set<number>();
  let highest = 0;
  let reconnects = -1;
  let ws: WebSocket | undefined;
  let stopped = false;
  let turn = startAt;

  const take = (seq: number) => {
    seqs.add(seq);
    highest = Math.max(highest, seq);
  };

  function dial(): void {
    if (stopped) return;
    const bases = gateways();
    const base = bases[turn++ % bases.length] as string;
    reconnects++;
    const socket = new WebSocket(wsUrl(base, { token, since: highest || undefined }));
    ws = socket;
    socket.on('message', (data) => {
      const f = JSON.parse(data.toString()) as ServerFrame;
      if (f.type === 'hello') {
        for (const i of f.items) take(i.seq);
        if (f.more) socket.close(); // reconnects with the new `since`
      } else if (f.type === 'message') take(f.item.seq);
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      if (ws === socket) ws = undefined;
      if (!stopped) setTimeout(dial, 100 + Math.floor(Math.random() * 200));
    });
  }
  dial();
  return {
    userId,
    seqs,
    reconnects: () => Math.max(0, reconnects),
    open: () => ws?.readyState === WebSocket.OPEN,
    close() {
      stopped = true;
      ws?.terminate();
    },
  };
}
