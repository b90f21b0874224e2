import WebSocket from 'ws';
import type { ServerFrame } from '../../../src/gateway/protocol';
import type { InboxCounts } from '../../../src/inbox/inboxCounts';

export type Frame = ServerFrame;

/** A real `ws` client that records every frame and lets a test wait for the one it expects. */
export class TestClient {
  readonly frames: Frame[] = [];
  private waiters: Array<() => void> = [];
  readonly closed: Promise<{ code: number; reason: string }>;

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      this.frames.push(JSON.parse(data.toString()) as Frame);
      for (const w of this.waiters.splice(0)) w();
    });
    this.closed = new Promise((resolve) =>
      ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    );
  }

  /** Resolves with the first recorded frame that matches, waiting for it if needed. */
  async waitFor<T extends Frame['type']>(
    type: T,
    match: (f: Extract<Frame, { type: T }>) => boolean = () => true,
    timeoutMs = 5000,
  ): Promise<Extract<Frame, { type: T }>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.frames.find(
        (f): f is Extract<Frame, { type: T }> => f.type === type && match(f as Extract<Frame, { type: T }>),
      );
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(
          `no ${type} frame within ${timeoutMs} ms; got ${JSON.stringify(this.frames.map((f) => f.type))}`,
        );
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Resolves with the first recorded frame that `match` accepts, waiting for it if needed. */
  async waitForFrame(match: (f: Frame) => boolean, timeoutMs = 10_000): Promise<Frame> {
    const deadline = Date.now() + timeoutMs;
    for (let from = 0; ;) {
      for (; from < this.frames.length; from++)
        if (match(this.frames[from] as Frame)) return this.frames[from] as Frame;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching frame within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  private refs = 0;

  /** Sends a client frame with a fresh `ref` and resolves with its answer (ack, count or error). */
  async request(frame: { type: string } & Record<string, unknown>, timeoutMs = 10_000): Promise<Frame> {
    const ref = `r${++this.refs}`;
    this.send({ ...frame, ref });
    return this.waitForFrame((f) => 'ref' in f && f.ref === ref, timeoutMs);
  }

  /** The counts of the highest version this socket has been sent. */
  lastCounts(): InboxCounts | undefined {
    let best: InboxCounts | undefined;
    for (const f of this.frames)
      if ('counts' in f && f.counts && (!best || f.counts.version > best.version)) best = f.counts;
    return best;
  }

  messages(): Array<Extract<Frame, { type: 'message' }>> {
    return this.frames.filter((f): f is Extract<Frame, { type: 'message' }> => f.type === 'message');
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  close(): void {
    this.ws.terminate();
  }
}

export function wsUrl(base: string, query: Record<string, string | number | undefined> = {}): string {
  const u = new URL('/v1/ws', base);
  for (const [k, v] of Object.entries(query)) if (v !== undefined) u.searchParams.set(k, String(v));
  return u.toString();
}

/** Connects and waits for `hello`. */
export async function connect(
  base: string,
  query: { token?: string; since?: number },
  headers: Record<string, string> = {},
): Promise<TestClient> {
  const ws = new WebSocket(wsUrl(base, query), { headers });
  const client = new TestClient(ws);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`refused with ${res.statusCode}`)));
  });
  await client.waitFor('hello');
  return client;
}

/** Tries to connect and expects a refusal before the upgrade: the HTTP status and problem body. */
export function connectRefused(
  base: string,
  query: Record<string, string | undefined>,
  headers: Record<string, string> = {},
): Promise<{ status: number; contentType: string | undefined; body: { code?: string; status?: number } }> {
  const ws = new WebSocket(wsUrl(base, query), { headers });
  return new Promise((resolve, reject) => {
    ws.once('open', () => {
      ws.terminate();
      reject(new Error('the socket was accepted'));
    });
    ws.once('unexpected-response', (_req, res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => {
        resolve({
          status: res.statusCode ?? 0,
          contentType: res.headers['content-type'],
          body: text ? (JSON.parse(text) as { code?: string }) : {},
        });
        ws.terminate();
      });
    });
    ws.once('error', () => undefined);
  });
}
