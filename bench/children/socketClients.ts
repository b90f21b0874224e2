import { performance } from 'node:perf_hooks';
import amqplib from 'amqplib';
import WebSocket from 'ws';
import { signUserToken } from '../../src/auth/userToken';
import { createHeraldPublisher } from '../../src/sdk/publisher';
import { serveRpc } from '../lib/childRpc';

/**
 * The frontends of the benchmark, in a process of their own: WebSocket clients that count the frames
 * they get, and a steady publisher for the latency runs (same clock as the receiving sockets).
 */

const now = () => performance.timeOrigin + performance.now();

const sockets: WebSocket[] = [];
let messageFrames = 0;
const itemIds = new Set<string>();
let lastFrameAt = 0;
let closedEarly = 0;
let latencies: number[] = [];
/** When set, only frames whose item has this title count (one phase of a run). */
let titleFilter: string | undefined;

interface ConnectArgs {
  wsBase: string;
  secret?: string;
  users: string[];
  concurrency: number;
  localAddresses?: string[];
}

function connectOne(url: string, localAddress: string | undefined): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { localAddress, perMessageDeflate: false });
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error('no hello within 30 s'));
    }, 30_000);
    ws.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    ws.once('message', () => {
      clearTimeout(timer);
      resolve(ws);
    });
  });
}

function watch(ws: WebSocket): void {
  ws.on('message', (data) => {
    const frame = JSON.parse(data.toString()) as {
      type: string;
      item?: { id: string; title: string; body: string };
    };
    if (frame.type !== 'message' || !frame.item) return;
    if (titleFilter !== undefined && frame.item.title !== titleFilter) return;
    const t = now();
    messageFrames += 1;
    itemIds.add(frame.item.id);
    lastFrameAt = t;
    const sentAt = Number(frame.item.body);
    if (Number.isFinite(sentAt) && sentAt > 0) latencies.push(t - sentAt);
  });
  ws.on('close', () => {
    closedEarly += 1;
  });
}

async function connect(a: ConnectArgs): Promise<{ connected: number; ms: number }> {
  const started = now();
  let next = 0;
  const worker = async () => {
    while (next < a.users.length) {
      const i = next++;
      const user = a.users[i] as string;
      // A token per user, as the business backend would mint it; bare ws servers ignore it.
      const token = a.secret ? signUserToken(a.secret, user, 3600) : user;
      const local = a.localAddresses?.[i % a.localAddresses.length];
      const ws = await connectOne(`${a.wsBase}?token=${encodeURIComponent(token)}`, local);
      watch(ws);
      sockets.push(ws);
    }
  };
  await Promise.all(Array.from({ length: Math.min(a.concurrency, a.users.length) }, worker));
  return { connected: sockets.length, ms: now() - started };
}

function counts() {
  const open = sockets.filter((s) => s.readyState === WebSocket.OPEN).length;
  return {
    messageFrames,
    distinctItems: itemIds.size,
    lastFrameAt,
    open,
    closedEarly,
    latencies: latencies.length,
  };
}

function reset(args?: { title?: string }): null {
  titleFilter = args?.title;
  messageFrames = 0;
  itemIds.clear();
  lastFrameAt = 0;
  latencies = [];
  return null;
}

async function closeAll(): Promise<null> {
  const gone = sockets.map(
    (s) =>
      new Promise<void>((r) => {
        if (s.readyState === WebSocket.CLOSED) r();
        else s.once('close', () => r());
      }),
  );
  for (const s of sockets) s.close(1000, 'bench done');
  await Promise.race([Promise.all(gone), new Promise((r) => setTimeout(r, 5000))]);
  for (const s of sockets) if (s.readyState !== WebSocket.CLOSED) s.terminate();
  sockets.length = 0;
  closedEarly = 0;
  return null;
}

/** Calls `send(i)` `rate` times a second for `durationMs`, on a 5 ms tick; returns the count. */
async function steady(rate: number, durationMs: number, send: (i: number) => void): Promise<number> {
  const started = now();
  let sent = 0;
  const total = Math.round((rate * durationMs) / 1000);
  while (sent < total) {
    const due = Math.min(total, Math.floor(((now() - started) * rate) / 1000) + 1);
    while (sent < due) send(sent++);
    await new Promise((r) => setTimeout(r, 5));
  }
  return sent;
}

interface SteadyArgs {
  amqpUrl: string;
  prefix: string;
  template: string;
  users: string[];
  rate: number;
  durationMs: number;
  runId: string;
  /** Rendered as the item's title, so a phase counts only its own frames. */
  phase: string;
}

/** Publishes with the Herald SDK at a steady rate; each envelope carries its publish time. */
async function publishSteady(a: SteadyArgs): Promise<{ published: number }> {
  const publisher = await createHeraldPublisher({ url: a.amqpUrl, prefix: a.prefix });
  const confirms: Array<Promise<unknown>> = [];
  try {
    const published = await steady(a.rate, a.durationMs, (i) => {
      confirms.push(
        publisher.publish({
          id: `${a.runId}-${i}`,
          template: a.template,
          to: [{ userId: a.users[i % a.users.length] as string }],
          data: { sentAt: now().toFixed(3), phase: a.phase },
        }),
      );
    });
    await Promise.all(confirms);
    return { published };
  } finally {
    await publisher.close();
  }
}

interface RawArgs {
  amqpUrl: string;
  queue: string;
  rate: number;
  durationMs: number;
}

/** The latency baseline: confirmed persistent publish to a quorum queue → a raw consumer's receive. */
async function rawLatency(a: RawArgs): Promise<{ latencies: number[]; published: number; received: number }> {
  const conn = await amqplib.connect(a.amqpUrl);
  try {
    const pub = await conn.createConfirmChannel();
    const sub = await conn.createChannel();
    await sub.assertQueue(a.queue, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
    await sub.prefetch(200);
    const got: number[] = [];
    await sub.consume(a.queue, (msg) => {
      if (!msg) return;
      const body = JSON.parse(msg.content.toString()) as { data: { sentAt: string } };
      got.push(now() - Number(body.data.sentAt));
      sub.ack(msg);
    });
    const confirms: Array<Promise<void>> = [];
    const published = await steady(a.rate, a.durationMs, (i) => {
      const content = Buffer.from(
        JSON.stringify({
          id: `raw-${i}`,
          template: 'raw',
          to: [{ userId: 'u' }],
          data: { sentAt: now().toFixed(3) },
        }),
      );
      confirms.push(
        new Promise((resolve, reject) =>
          pub.sendToQueue(a.queue, content, { persistent: true, contentType: 'application/json' }, (err) =>
            err ? reject(err as Error) : resolve(),
          ),
        ),
      );
    });
    await Promise.all(confirms);
    const until = Date.now() + 10_000;
    while (got.length < published && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    await sub.deleteQueue(a.queue);
    return { latencies: got, published, received: got.length };
  } finally {
    await conn.close();
  }
}

serveRpc({
  connect,
  counts,
  reset,
  closeAll,
  publishSteady,
  rawLatency,
  takeLatencies: () => {
    const out = latencies;
    latencies = [];
    return out;
  },
});
