import type { FastifyBaseLogger } from 'fastify';
import { WebSocket } from 'ws';
import { toItemView } from '../inbox/inboxItem';
import type { InboxStore } from '../inbox/inboxStore';
import { markReadAndAnnounce } from '../inbox/markReadAndAnnounce';
import { createConnectionRegistry, type Connection } from './connectionRegistry';
import { createDeliveredMarker } from './deliveredMarker';
import type { ImBus, ImEvent } from '../inbox/imBus';
import { CLOSE, parseClientFrame, type ClientFrame, type ServerFrame } from './protocol';
import { armTokenExpiry } from './tokenExpiry';

export interface GatewayOptions {
  /** Ping every socket this often; one that has not answered the previous ping is dropped. */
  heartbeatMs: number;
  /** A socket whose unsent bytes exceed this is closed (4008) instead of buffering more. */
  maxBufferedBytes: number;
  /** Most items a `hello` carries; it says `more: true` beyond. */
  helloLimit?: number;
  /** Sockets one user may hold on this instance; the oldest is closed (4010) past it. */
  maxSocketsPerUser?: number;
}

export interface Gateway {
  /** Subscribes to the IM bus and starts the heartbeat. */
  start(): Promise<void>;
  /** Takes over an upgraded, already authenticated socket. */
  accept(socket: WebSocket, userId: string, opts?: { since?: number; expiresAt?: Date }): void;
  /** Sockets held, of one user or of all. */
  connectionCount(userId?: string): number;
  /** Closes every socket with 1001 and waits (briefly) for them to go. */
  closeSockets(): Promise<void>;
  /** Stops accepting, unsubscribes, closes sockets, flushes pending `delivered` marks. */
  close(): Promise<void>;
}

export function createGateway(deps: {
  options: GatewayOptions;
  inbox: InboxStore;
  bus: ImBus;
  log: FastifyBaseLogger;
}): Gateway {
  const { options, inbox, bus, log } = deps;
  const helloLimit = options.helloLimit ?? 200;
  const registry = createConnectionRegistry();
  const delivered = createDeliveredMarker(inbox, log);
  let unsubscribe: (() => Promise<void>) | undefined;
  let heartbeat: NodeJS.Timeout | undefined;
  let closing = false;

  function drop(conn: Connection, close: { code: number; reason: string }): void {
    registry.remove(conn);
    if (conn.socket.readyState === WebSocket.OPEN) conn.socket.close(close.code, close.reason);
  }

  /** false when the frame did not go out (socket gone, or closed for being too slow). */
  function send(conn: Connection, frame: ServerFrame): boolean {
    const { socket } = conn;
    if (socket.readyState !== WebSocket.OPEN) return false;
    if (socket.bufferedAmount > options.maxBufferedBytes) {
      log.info({ userId: conn.userId, buffered: socket.bufferedAmount }, 'gateway: closing a slow consumer');
      drop(conn, CLOSE.slowConsumer);
      return false;
    }
    socket.send(JSON.stringify(frame));
    return true;
  }

  function deliver(conn: Connection, event: ImEvent): boolean {
    if (event.type === 'unread') return send(conn, { type: 'unread', unread: event.unread });
    const sent = send(conn, { type: 'message', item: toItemView(event.item), unread: event.unread });
    if (sent) conn.lastSeq = Math.max(conn.lastSeq, event.item.seq);
    return sent;
  }

  /** Sends what waited behind a snapshot read, less what the snapshot (up to `upToSeq`) already carried. */
  function release(conn: Connection, upToSeq: number): void {
    conn.ready = true;
    const pending = conn.pending;
    conn.pending = [];
    for (const event of pending) {
      if (event.type === 'item' && event.item.seq <= upToSeq) continue;
      if (deliver(conn, event) && event.type === 'item' && event.item.deliveryId)
        delivered.add(event.item.deliveryId);
    }
  }

  function onEvent(event: ImEvent): void {
    let pushed = false;
    for (const conn of registry.ofUser(event.userId)) {
      if (!conn.ready) conn.pending.push(event);
      else pushed = deliver(conn, event) || pushed;
    }
    if (pushed && event.type === 'item' && event.item.deliveryId) delivered.add(event.item.deliveryId);
  }

  async function hello(conn: Connection, since: number | undefined): Promise<void> {
    try {
      const snap = await inbox.snapshot(conn.userId, { afterSeq: since, limit: helloLimit });
      const sent = send(conn, {
        type: 'hello',
        userId: conn.userId,
        unread: snap.unread,
        lastSeq: snap.lastSeq,
        items: snap.items.map(toItemView),
        more: snap.more,
      });
      if (sent) {
        conn.lastSeq = Math.max(conn.lastSeq, snap.lastSeq);
        for (const i of snap.items) if (i.deliveryId && !i.readAt) delivered.add(i.deliveryId);
      }
      release(conn, snap.lastSeq);
    } catch (err) {
      log.error({ err, userId: conn.userId }, 'gateway: reading the inbox for hello failed');
      send(conn, { type: 'error', code: 'internal_error', message: 'the inbox could not be read' });
      drop(conn, CLOSE.internal);
    }
  }

  /**
   * After a gap in the bus subscription, each ready socket is sent the items stored since the last one it
   * got, as `message` frames; a socket that missed more than a hello carries is closed to reconnect with
   * `since`, which pages.
   */
  async function catchUp(conn: Connection): Promise<void> {
    if (!conn.ready) return; // its hello is still to come and reads the database itself
    conn.ready = false;
    try {
      const snap = await inbox.snapshot(conn.userId, { afterSeq: conn.lastSeq, limit: helloLimit });
      if (snap.more) {
        drop(conn, CLOSE.resync);
        return;
      }
      for (const item of snap.items)
        if (
          deliver(conn, { type: 'item', userId: conn.userId, item, unread: snap.unread }) &&
          item.deliveryId
        )
          delivered.add(item.deliveryId);
      send(conn, { type: 'unread', unread: snap.unread });
      conn.lastSeq = Math.max(conn.lastSeq, snap.lastSeq);
      release(conn, snap.lastSeq);
    } catch (err) {
      log.error({ err, userId: conn.userId }, 'gateway: catching up after a bus gap failed');
      drop(conn, CLOSE.internal);
    }
  }

  function catchUpAll(): void {
    const conns = registry.all();
    log.info({ sockets: conns.length }, 'gateway: IM bus resubscribed; catching sockets up from the inbox');
    for (const conn of conns) void catchUp(conn);
  }

  async function onFrame(conn: Connection, frame: ClientFrame): Promise<void> {
    if (frame.type === 'ping') {
      send(conn, { type: 'pong' });
      return;
    }
    const selection =
      frame.ids !== undefined
        ? { ids: frame.ids }
        : frame.upToSeq !== undefined
          ? { upToSeq: frame.upToSeq }
          : { all: true as const };
    try {
      const result = await markReadAndAnnounce({ inbox, bus, log }, conn.userId, selection);
      // Without the bus, at least this instance's tabs learn the count.
      if (!result.announced) onEvent({ type: 'unread', userId: conn.userId, unread: result.unread });
    } catch (err) {
      log.error({ err, userId: conn.userId }, 'gateway: marking read failed');
      send(conn, { type: 'error', code: 'read_failed', message: 'the items could not be marked read' });
    }
  }

  function beat(): void {
    for (const conn of registry.all()) {
      if (!conn.alive) {
        registry.remove(conn);
        conn.socket.terminate();
        continue;
      }
      conn.alive = false;
      conn.socket.ping();
    }
  }

  async function closeSockets(): Promise<void> {
    const conns = registry.all();
    const gone = conns.map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.socket.readyState === WebSocket.CLOSED) resolve();
          else c.socket.once('close', () => resolve());
        }),
    );
    for (const c of conns) drop(c, CLOSE.goingAway);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(gone),
      new Promise((r) => {
        timer = setTimeout(r, 1000);
      }),
    ]);
    clearTimeout(timer);
    for (const c of conns) if (c.socket.readyState !== WebSocket.CLOSED) c.socket.terminate();
  }

  return {
    async start() {
      if (unsubscribe) return;
      unsubscribe = await bus.subscribe(onEvent, { onResubscribed: catchUpAll });
      heartbeat = setInterval(beat, options.heartbeatMs);
      heartbeat.unref();
    },

    accept(socket, userId, opts = {}) {
      if (closing) {
        socket.close(CLOSE.goingAway.code, CLOSE.goingAway.reason);
        return;
      }
      const conn: Connection = { socket, userId, alive: true, ready: false, pending: [], lastSeq: 0 };
      registry.add(conn);
      const held = registry.ofUser(userId);
      // ofUser lists in the order sockets were added: the first ones are the oldest.
      for (const old of held.slice(0, Math.max(0, held.length - (options.maxSocketsPerUser ?? Infinity))))
        drop(old, CLOSE.tooManySockets);
      const disarm = opts.expiresAt
        ? armTokenExpiry(opts.expiresAt, () => drop(conn, CLOSE.tokenExpired))
        : () => undefined;
      socket.on('pong', () => {
        conn.alive = true;
      });
      socket.on('close', () => {
        disarm();
        registry.remove(conn);
      });
      socket.on('message', (data, isBinary) => {
        const parsed = parseClientFrame(data, isBinary);
        if (!parsed.ok) send(conn, { type: 'error', code: parsed.code, message: parsed.message });
        else void onFrame(conn, parsed.frame);
      });
      void hello(conn, opts.since);
    },

    connectionCount: (userId) => (userId === undefined ? registry.size() : registry.ofUser(userId).length),

    closeSockets,

    async close() {
      closing = true;
      if (heartbeat) clearInterval(heartbeat);
      heartbeat = undefined;
      const stop = unsubscribe;
      unsubscribe = undefined;
      await stop?.();
      await closeSockets();
      await delivered.flush();
    },
  };
}
