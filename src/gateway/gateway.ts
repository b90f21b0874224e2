import { SpanKind } from '@opentelemetry/api';
import type { FastifyBaseLogger } from 'fastify';
import { WebSocket } from 'ws';
import type { PreferenceStore } from '../audience/subscriberStore';
import { HeraldError } from '../errors';
import { toItemView } from '../inbox/inboxItem';
import type { InboxStore } from '../inbox/inboxStore';
import { actAndAnnounce, changeAndAnnounce } from '../inbox/announceChange';
import type { InboxChange, Selection } from '../inbox/inboxChange';
import { parseDuration } from '../contract/duration';
import { createConnectionRegistry, type Connection } from './connectionRegistry';
import { createDeliveredMarker } from './deliveredMarker';
import type { ImBus, ImEvent, ImSubscription } from '../inbox/imBus';
import { CLOSE, parseClientFrame, type ClientFrame, type ServerFrame } from './protocol';
import { armTokenExpiry } from './tokenExpiry';
import { MESSAGING_OPERATION } from '../tracing/messagingAttributes';
import { tracer } from '../tracing/spans';

/** Pushes past a hole in a socket's seqs before the hole is taken for one that never fills. */
const MAX_AHEAD = 1000;

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
  /** The user's own preferences, for the getPreferences and setPreferences frames. */
  preferences: PreferenceStore;
}): Gateway {
  const { options, inbox, bus, log } = deps;
  const helloLimit = options.helloLimit ?? 200;
  const registry = createConnectionRegistry();
  const delivered = createDeliveredMarker(inbox, log);
  let subscription: ImSubscription | undefined;
  let heartbeat: NodeJS.Timeout | undefined;
  let closing = false;

  /** Takes a socket out of the registry and, if it was there, out of the bus routing of its user. */
  function forget(conn: Connection): void {
    if (registry.remove(conn)) subscription?.release(conn.userId);
  }

  function drop(conn: Connection, close: { code: number; reason: string }): void {
    forget(conn);
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
    const counted = { counts: event.counts, unread: event.counts.unread };
    if (event.type === 'counts') return send(conn, { type: 'counts', ...counted });
    if (event.type === 'changed') {
      const { type: _t, userId: _u, counts: _c, ...change } = event;
      return send(conn, { type: 'changed', ...change, ...counted });
    }
    const sent = send(conn, { type: 'message', item: toItemView(event.item), ...counted });
    if (sent) holdSeq(conn, event.item.seq);
    return sent;
  }

  /**
   * Moves a socket's catch-up start only over seqs it holds without a hole. Two commits' pushes can
   * arrive out of order; starting a catch-up from the highest seq pushed passed over an item still on
   * its way when the bus dropped it (imBusGap saw 295 of 300). A hole that never fills (a seq taken by
   * an insert that lost a race) is given up after MAX_AHEAD pushes past it.
   */
  function holdSeq(conn: Connection, seq: number): void {
    if (seq <= conn.lastSeq) return;
    if (seq === conn.lastSeq + 1) conn.lastSeq = seq;
    else conn.ahead.add(seq);
    if (conn.ahead.size > MAX_AHEAD) conn.lastSeq = Math.min(...conn.ahead);
    closeHoles(conn);
  }

  /** A snapshot read at `lastSeq` holds every item up to it. */
  function holdUpTo(conn: Connection, lastSeq: number): void {
    if (lastSeq > conn.lastSeq) conn.lastSeq = lastSeq;
    closeHoles(conn);
  }

  function closeHoles(conn: Connection): void {
    for (const s of conn.ahead) if (s <= conn.lastSeq) conn.ahead.delete(s);
    while (conn.ahead.delete(conn.lastSeq + 1)) conn.lastSeq += 1;
  }

  /**
   * Sends what waited behind a snapshot read, less what the snapshot (at counts `version`) already
   * reflected: every change commits with a new version, so an older one is in the snapshot.
   */
  function release(conn: Connection, version: number): void {
    conn.ready = true;
    const pending = conn.pending;
    conn.pending = [];
    for (const event of pending) {
      if (event.counts.version <= version) continue;
      if (deliver(conn, event) && event.type === 'item' && event.item.deliveryId)
        delivered.add(event.item.deliveryId);
    }
  }

  /** Runs in the trace context the bus event carried: the push is a span of the message's trace. */
  function onEvent(event: ImEvent): void {
    const span = tracer().startSpan('push im', {
      kind: SpanKind.CONSUMER,
      attributes: {
        [MESSAGING_OPERATION]: 'process',
        'herald.im.event': event.type,
        ...(event.type === 'item' && event.item.deliveryId
          ? { 'herald.delivery.id': event.item.deliveryId }
          : {}),
      },
    });
    let pushed = false;
    let sockets = 0;
    let waiting = 0;
    for (const conn of registry.ofUser(event.userId)) {
      if (!conn.ready) {
        conn.pending.push(event);
        waiting++;
      } else if (deliver(conn, event)) {
        pushed = true;
        sockets++;
      }
    }
    if (pushed && event.type === 'item' && event.item.deliveryId) delivered.add(event.item.deliveryId);
    span.setAttribute('herald.im.sockets', sockets);
    if (waiting) span.setAttribute('herald.im.sockets_waiting', waiting);
    span.end();
  }

  async function hello(conn: Connection, since: number | undefined): Promise<void> {
    try {
      const snap = await inbox.snapshot(conn.userId, { afterSeq: since, limit: helloLimit });
      const sent = send(conn, {
        type: 'hello',
        userId: conn.userId,
        lastSeq: snap.lastSeq,
        items: snap.items.map(toItemView),
        more: snap.more,
        counts: snap.counts,
        unread: snap.counts.unread,
      });
      if (sent) {
        holdUpTo(conn, snap.lastSeq);
        for (const i of snap.items) if (i.deliveryId && !i.readAt) delivered.add(i.deliveryId);
      }
      release(conn, snap.counts.version);
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
          deliver(conn, { type: 'item', userId: conn.userId, item, counts: snap.counts }) &&
          item.deliveryId
        )
          delivered.add(item.deliveryId);
      send(conn, { type: 'counts', counts: snap.counts, unread: snap.counts.unread });
      holdUpTo(conn, snap.lastSeq);
      release(conn, snap.counts.version);
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
    const ref = frame.ref;
    const withRef = ref !== undefined ? { ref } : {};
    if (frame.type === 'ping') {
      send(conn, { type: 'pong', ...withRef });
      return;
    }
    try {
      if (frame.type === 'getPreferences' || frame.type === 'setPreferences') {
        const preferences =
          frame.type === 'setPreferences'
            ? await deps.preferences.write(conn.userId, frame.preferences)
            : await deps.preferences.read(conn.userId);
        send(conn, { type: 'preferences', ...withRef, preferences });
        return;
      }
      if (frame.type === 'count') {
        const n = await inbox.countFilter(conn.userId, frame.filter);
        send(conn, { type: 'count', ...withRef, filter: frame.filter, ...n });
        return;
      }
      let done: { event: ImEvent; announced: boolean; ids: string[] } | undefined;
      if (frame.type === 'action') {
        done = await actAndAnnounce({ inbox, bus, log }, conn.userId, frame.id, frame.action);
      } else {
        const selection: Selection =
          frame.ids !== undefined
            ? { ids: frame.ids }
            : frame.upToSeq !== undefined
              ? { upToSeq: frame.upToSeq }
              : frame.filter !== undefined
                ? { filter: frame.filter }
                : { all: true };
        const change: InboxChange =
          frame.type === 'snooze'
            ? {
                kind: 'snooze',
                until:
                  frame.until !== undefined
                    ? new Date(frame.until)
                    : new Date(Date.now() + parseDuration(frame.for as string)),
              }
            : { kind: frame.type };
        done = await changeAndAnnounce({ inbox, bus, log }, conn.userId, change, selection);
      }
      // Without the bus, at least this instance's tabs learn the change.
      if (done && !done.announced) onEvent(done.event);
      if (ref !== undefined) send(conn, { type: 'ack', ref, updated: done?.ids.length ?? 0 });
    } catch (err) {
      const known = err instanceof HeraldError && err.status < 500;
      if (!known)
        log.error({ err, userId: conn.userId, frame: frame.type }, 'gateway: an inbox change failed');
      send(conn, {
        type: 'error',
        ...withRef,
        code: known ? err.code : `${frame.type}_failed`,
        message: known ? err.message : `the ${frame.type} could not be applied`,
      });
    }
  }

  function beat(): void {
    for (const conn of registry.all()) {
      if (!conn.alive) {
        forget(conn);
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
      if (subscription) return;
      subscription = await bus.subscribe(onEvent, { onResubscribed: catchUpAll });
      heartbeat = setInterval(beat, options.heartbeatMs);
      heartbeat.unref();
    },

    accept(socket, userId, opts = {}) {
      if (closing) {
        socket.close(CLOSE.goingAway.code, CLOSE.goingAway.reason);
        return;
      }
      const conn: Connection = {
        socket,
        userId,
        alive: true,
        ready: false,
        pending: [],
        lastSeq: 0,
        ahead: new Set(),
      };
      registry.add(conn);
      // The user's events are routed here before the hello reads its snapshot, so none falls between.
      const routed = subscription?.hold(userId) ?? Promise.resolve();
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
        forget(conn);
      });
      socket.on('message', (data, isBinary) => {
        const parsed = parseClientFrame(data, isBinary);
        if (!parsed.ok) {
          const { ok: _ok, ...error } = parsed;
          send(conn, { type: 'error', ...error });
        } else void onFrame(conn, parsed.frame);
      });
      void routed.then(() => hello(conn, opts.since));
    },

    connectionCount: (userId) => (userId === undefined ? registry.size() : registry.ofUser(userId).length),

    closeSockets,

    async close() {
      closing = true;
      if (heartbeat) clearInterval(heartbeat);
      heartbeat = undefined;
      const sub = subscription;
      subscription = undefined;
      await sub?.close();
      await closeSockets();
      await delivered.flush();
    },
  };
}
