import amqplib, { type ChannelModel } from 'amqplib';
import type { FastifyBaseLogger } from 'fastify';
import { parseBrokerUrls, redactUrl } from './brokerUrls';

const CONNECT_TIMEOUT_MS = 5000;
const CLOSE_TIMEOUT_MS = 2000;

/**
 * Closes politely, but a node that hangs never answers the close: after CLOSE_TIMEOUT_MS the socket is
 * destroyed (amqplib keeps it, untyped, as `connection.stream`) so a shutdown cannot wait forever.
 */
async function closeModel(model: ChannelModel): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const closed = await Promise.race([
    model.close().then(
      () => true,
      () => true,
    ),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), CLOSE_TIMEOUT_MS);
    }),
  ]);
  clearTimeout(timer);
  if (!closed)
    (model.connection as unknown as { stream?: { destroy(err: Error): void } }).stream?.destroy(
      new Error(`the broker did not answer the close within ${CLOSE_TIMEOUT_MS} ms`),
    );
}

export type ConnectHook = (model: ChannelModel) => Promise<void>;
export type BrokerLog = Pick<FastifyBaseLogger, 'info' | 'warn' | 'error'>;

/**
 * One AMQP connection per process, to any node of a cluster. Modules register hooks that (re)create
 * their channels, topology and consumers; each runs now and after every reconnect.
 */
export interface BrokerConnection {
  onConnect(hook: ConnectHook): Promise<void>;
  /** Whether a connection is currently up (for /ready). */
  isConnected(): boolean;
  /** The live connection, for short-lived inspection channels; undefined while reconnecting. */
  current(): ChannelModel | undefined;
  /** host:port of the node connected to, for logs and tests; undefined while reconnecting. */
  node(): string | undefined;
  close(): Promise<void>;
}

export interface BrokerConnectOptions {
  /** Pause after the first round of failed nodes; doubles (±20 %) each round up to `maxDelayMs`. */
  initialDelayMs?: number;
  maxDelayMs?: number;
  /** Rounds over every node the first connect may take before it fails; later losses retry forever. */
  initialRounds?: number;
}

/**
 * Connects to the first node of `urls` that answers (one URL, several, or a comma-separated list) and
 * runs the hooks there. When that node goes away it tries the others at once, starting with the one
 * after it, then every node again after a backoff; each success re-runs every hook on the new node.
 */
export async function connectBroker(
  urls: string | readonly string[],
  log: BrokerLog,
  opts: BrokerConnectOptions = {},
): Promise<BrokerConnection> {
  const nodes = parseBrokerUrls(urls);
  const initialDelayMs = opts.initialDelayMs ?? 200;
  const maxDelayMs = opts.maxDelayMs ?? 10_000;
  const hooks: ConnectHook[] = [];
  let current: { model: ChannelModel; index: number } | undefined;
  let nextIndex = 0;
  let stopped = false;
  let wake: (() => void) | undefined;
  let reconnecting = false;
  let connectedOnce = false;

  const backoff = (round: number) => {
    const base = Math.min(maxDelayMs / 1.2, initialDelayMs * 2 ** (round - 1));
    return Math.round(base * (0.8 + Math.random() * 0.4));
  };
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  /** One round: every node once, from `nextIndex`; throws the last node's error when none took. */
  async function connectOnce(): Promise<void> {
    let lastError: unknown;
    for (let i = 0; i < nodes.length && !stopped; i++) {
      const index = (nextIndex + i) % nodes.length;
      const url = nodes[index] as string;
      let model: ChannelModel | undefined;
      try {
        // A node that does not answer at all (not even a refusal) is given up after CONNECT_TIMEOUT_MS.
        model = await amqplib.connect(url, { timeout: CONNECT_TIMEOUT_MS });
        model.on('error', (err: Error) => log.warn({ err: err.message }, 'broker: connection error'));
        model.on('blocked', (reason: string) => log.warn({ reason }, 'broker: connection blocked'));
        const opened = model;
        let count = 0;
        // A hook registered while these run is appended, and so runs here too.
        for (const hook of hooks) {
          await hook(opened);
          count++;
        }
        if (stopped) throw new Error('closed while connecting');
        current = { model: opened, index };
        connectedOnce = true;
        nextIndex = index;
        opened.once('close', (err?: Error) => lost(opened, err));
        log.info({ node: redactUrl(url), hooks: count }, 'broker: connected');
        return;
      } catch (err) {
        lastError = err;
        if (model) await closeModel(model);
        // At start the caller explains the final error in one line; later a lost node is worth a warning.
        if (!stopped)
          (connectedOnce ? log.warn : log.info).call(
            log,
            { node: redactUrl(url), err: (err as Error).message },
            'broker: node not usable',
          );
      }
    }
    throw lastError ?? new Error('broker connection closed');
  }

  function lost(model: ChannelModel, err?: Error): void {
    if (current?.model !== model) return;
    const gone = current.index;
    current = undefined;
    if (stopped) return;
    log.warn(
      { node: redactUrl(nodes[gone] as string), err: err?.message },
      'broker: connection lost; reconnecting',
    );
    nextIndex = (gone + 1) % nodes.length;
    void reconnect();
  }

  async function reconnect(): Promise<void> {
    if (reconnecting) return;
    reconnecting = true;
    try {
      for (let round = 0; !stopped; round++) {
        if (round > 0) {
          const delay = backoff(round);
          log.info({ round, delay }, 'broker: reconnect scheduled');
          await pause(delay);
        }
        if (stopped) return;
        try {
          await connectOnce();
          return;
        } catch {
          // logged per node; next round after the backoff
        }
      }
    } finally {
      reconnecting = false;
    }
  }

  const rounds = opts.initialRounds ?? 6;
  for (let round = 0; ; round++) {
    if (round > 0) await pause(backoff(round));
    try {
      await connectOnce();
      break;
    } catch (err) {
      if (round + 1 >= rounds) throw err;
    }
  }

  return {
    async onConnect(hook) {
      hooks.push(hook);
      if (current) await hook(current.model);
    },
    isConnected: () => current !== undefined,
    current: () => current?.model,
    node: () => (current ? redactUrl(nodes[current.index] as string) : undefined),
    async close() {
      stopped = true;
      wake?.();
      const c = current;
      current = undefined;
      if (c) await closeModel(c.model);
    },
  };
}
