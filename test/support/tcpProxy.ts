import net from 'node:net';

/**
 * A TCP forwarder standing in for one broker node: `down()` closes every connection through it and
 * stops listening (the node is gone: connections are reset, new ones refused), `up()` listens again on
 * the same port, `mute()` keeps connections open but drops what the broker sends (a node that hangs).
 */
export interface TcpProxy {
  port: number;
  url(credentials: string): string;
  /** Connections accepted so far. */
  accepted(): number;
  down(): Promise<void>;
  up(): Promise<void>;
  mute(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }, port = 0): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>();
  let accepted = 0;
  let muted = false;
  let server: net.Server | undefined;

  const listen = (p: number) =>
    new Promise<number>((resolve, reject) => {
      const srv = net.createServer((client) => {
        accepted++;
        const upstream = net.connect(target);
        sockets.add(client).add(upstream);
        const forget = () => {
          client.destroy();
          upstream.destroy();
          sockets.delete(client);
          sockets.delete(upstream);
        };
        client.on('data', (d) => upstream.write(d));
        upstream.on('data', (d) => {
          if (!muted) client.write(d);
        });
        client.on('close', forget).on('error', forget);
        upstream.on('close', forget).on('error', forget);
      });
      srv.once('error', reject);
      srv.listen(p, '127.0.0.1', () => {
        server = srv;
        resolve((srv.address() as net.AddressInfo).port);
      });
    });

  const stop = () =>
    new Promise<void>((resolve) => {
      const srv = server;
      server = undefined;
      for (const s of sockets) s.resetAndDestroy();
      sockets.clear();
      if (!srv) resolve();
      else srv.close(() => resolve());
    });

  const bound = await listen(port);
  return {
    port: bound,
    url: (credentials) => `amqp://${credentials}@127.0.0.1:${bound}`,
    accepted: () => accepted,
    down: stop,
    async up() {
      muted = false;
      if (!server) await listen(bound);
    },
    mute() {
      muted = true;
    },
    close: stop,
  };
}

/** A loopback port nothing listens on: bound, read and released (a refused connection, at once). */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}
