import { backoffDelay, DEFAULT_BACKOFF, type BackoffOptions } from './backoff';
import { createHttpInbox, HeraldHttpError, tokenSubject } from './httpInbox';
import { createItemStore } from './itemStore';
import type { Preferences } from './preferences';
import {
  CLOSE_CODES,
  type ChangeName,
  type ClientFrame,
  type InboxCounts,
  type InboxItem,
  type ServerFrame,
  type SocketConstructor,
  type SocketLike,
} from './types';

export interface ConnectOptions {
  /** Herald's base URL (`https://herald.example.com`); the socket is `/v1/ws` under it. */
  url: string;
  /** A user token (HS256 JWT from your backend); called for every connection, so return a fresh one. */
  token: () => Promise<string>;
  /** Defaults to the browser's; pass `ws`'s in Node. */
  WebSocket?: SocketConstructor;
  fetch?: typeof fetch;
  backoff?: Partial<BackoffOptions>;
  /** Items per HTTP page (1..200). */
  pageSize?: number;
  /** The client pings this often and reconnects when no pong came back before the next ping. */
  pingMs?: number;
}

export type InboxStatus = 'connecting' | 'open' | 'offline' | 'closed';

export interface InboxEvents {
  /** An item this client had not held, from the socket (never twice for one id). */
  item: InboxItem;
  /** The held items changed: new ones, read state, older pages. */
  change: readonly InboxItem[];
  unread: number;
  /** Unread and unseen, per declared tab too; only ever a higher version than the last. */
  counts: InboxCounts;
  status: { status: InboxStatus; error?: InboxError };
  error: InboxError;
}

export interface InboxError {
  /** `connect_failed`, `token_failed`, Herald's problem code (`token_expired`, …) or a frame's error code. */
  code: string;
  message: string;
}

export interface HeraldInbox {
  readonly status: InboxStatus;
  readonly unread: number;
  /** The latest counts (highest version), once the first frame or page carried them. */
  readonly counts: InboxCounts | undefined;
  readonly userId: string | undefined;
  /** Held items, newest first. */
  items(): readonly InboxItem[];
  on<K extends keyof InboxEvents>(event: K, listener: (value: InboxEvents[K]) => void): () => void;
  markRead(ids: readonly string[]): Promise<void>;
  markAllRead(): Promise<void>;
  /** Seen in a list (call it for the items scrolled into view); reading marks seen too. */
  markSeen(ids: readonly string[]): Promise<void>;
  markUnread(ids: readonly string[]): Promise<void>;
  archive(ids: readonly string[]): Promise<void>;
  unarchive(ids: readonly string[]): Promise<void>;
  /** Gone for this user (the delivery keeps its history). */
  remove(ids: readonly string[]): Promise<void>;
  /** Hidden until the time (`until` ISO 8601, or `for` such as `2h`), then back unread and pushed again. */
  snooze(ids: readonly string[], when: { until: string } | { for: string }): Promise<void>;
  /** Takes the item's primary or secondary action (recorded on the item and its delivery). */
  act(id: string, action: 'primary' | 'secondary'): Promise<void>;
  /** A page of one declared tab's items over HTTP, newest first (not held: the list is the live inbox). */
  tabPage(tab: string, cursor?: string): Promise<{ items: InboxItem[]; nextCursor: string | null }>;
  /**
   * The user's own preferences: channels and categories switched off. Over the socket while it is open
   * (getPreferences), else GET /v1/me/preferences.
   */
  preferences(): Promise<Preferences>;
  /**
   * Replaces them (setPreferences over the socket, else PUT /v1/me/preferences); critical notifications
   * still come. A refused value rejects with a HeraldHttpError carrying Herald's code (invalid_frame, …).
   */
  setPreferences(p: Preferences): Promise<Preferences>;
  /** The next older page over the HTTP inbox; `done` once there is nothing older. */
  loadOlder(): Promise<{ items: InboxItem[]; done: boolean }>;
  close(): void;
}

const OPEN = 1;
const MAX_PAGE = 200;
/** Pushes held above a hole in the seqs before the hole is taken as permanent. */
const MAX_HELD_ABOVE = 1000;

/** Connects to Herald's gateway as one user and keeps the connection, the items and the count. */
export function connect(options: ConnectOptions): HeraldInbox {
  const found = options.WebSocket ?? (globalThis as { WebSocket?: SocketConstructor }).WebSocket;
  if (!found) throw new Error('no WebSocket in this environment: pass options.WebSocket');
  const Socket: SocketConstructor = found;
  const fetchFn = options.fetch ?? globalThis.fetch.bind(globalThis);
  const backoff: BackoffOptions = { ...DEFAULT_BACKOFF, ...options.backoff };
  const pageSize = Math.min(MAX_PAGE, options.pageSize ?? 50);
  const pingMs = options.pingMs ?? 25_000;
  const baseUrl = options.url.replace(/\/+$/, '');
  const wsUrl = baseUrl.replace(/^http/, 'ws');

  const store = createItemStore();
  const listeners = new Map<keyof InboxEvents, Set<(v: never) => void>>();
  let status: InboxStatus = 'connecting';
  let unread = 0;
  let counts: InboxCounts | undefined;
  let userId: string | undefined;
  let token: string | undefined;
  let socket: SocketLike | undefined;
  /** Everything up to this seq is held: the next connection resumes with `since` = this. */
  let resumeSeq: number | undefined;
  /** While a hello's `more` is paged in, pushes must not move resumeSeq past the gap. */
  let filling = false;
  /**
   * Seqs pushed above resumeSeq. Pushes of two commits can arrive out of order (two consumers, or two
   * batches of one), so resumeSeq moves only over seqs held without a hole: a reconnect right after a push
   * that overtook another resumes below the one still on its way, and the store drops what comes twice.
   */
  const heldAbove = new Set<number>();
  function advanceResume(to?: number): void {
    if (to !== undefined) resumeSeq = Math.max(to, resumeSeq ?? 0);
    if (resumeSeq === undefined) return;
    // A hole that never fills (a seq the server handed out for an item it then did not store) must not
    // hold every later push: past this many, resume from the lowest one held.
    if (heldAbove.size > MAX_HELD_ABOVE) resumeSeq = Math.max(resumeSeq, Math.min(...heldAbove) - 1);
    while (heldAbove.delete(resumeSeq + 1)) resumeSeq += 1;
    for (const seq of heldAbove) if (seq <= resumeSeq) heldAbove.delete(seq);
  }
  let attempt = 0;
  let reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  let pingTimer: ReturnType<typeof setInterval> | undefined;
  let awaitingPong = false;
  let olderCursor: string | null | undefined;
  let refreshTimer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;
  /**
   * Preference requests sent over the socket, by ref, until their `preferences` (or `error`) frame comes
   * back; a socket that closes first hands them to HTTP.
   */
  const awaiting = new Map<
    string,
    { resolve: (p: Preferences) => void; reject: (e: Error) => void; overHttp: () => Promise<Preferences> }
  >();
  let lastRef = 0;

  const http = createHttpInbox({
    baseUrl,
    fetch: fetchFn,
    userId: () => {
      const id = userId ?? (token ? tokenSubject(token) : undefined);
      if (id === undefined) throw new Error('the user is not known yet: the token has no sub');
      return id;
    },
    token: async (fresh) => (token = fresh || token === undefined ? await options.token() : token),
  });

  function emit<K extends keyof InboxEvents>(event: K, value: InboxEvents[K]): void {
    for (const l of listeners.get(event) ?? []) (l as (v: InboxEvents[K]) => void)(value);
  }
  const changed = () => emit('change', store.list());
  function setStatus(next: InboxStatus, error?: InboxError): void {
    status = next;
    emit('status', error ? { status: next, error } : { status: next });
  }
  function setUnread(n: number): void {
    if (n === unread) return;
    unread = n;
    emit('unread', n);
  }
  /** Holds the server's items; `item` fires for each id this client had never held. */
  function addLive(items: readonly InboxItem[]): void {
    if (items.length === 0) return;
    for (const item of items) if (store.put(item)) emit('item', item);
    changed();
  }

  /** Keeps the highest version; a jump of more than one means frames this client missed: refetch. */
  function applyCounts(next: InboxCounts | undefined): void {
    if (!next) return;
    if (counts && next.version <= counts.version) return;
    const jumped = counts !== undefined && next.version > counts.version + 1;
    counts = next;
    setUnread(next.unread);
    emit('counts', next);
    if (jumped) reconcileSoon();
  }

  /**
   * A change made here: applied to the held items at once, then sent over the socket (whose `changed`
   * answer brings the counts), or over HTTP while there is no socket.
   */
  async function change(
    kind: 'seen' | 'read' | 'unread' | 'archive' | 'unarchive' | 'delete' | 'snooze',
    applied: ChangeName,
    ids: readonly string[] | 'all',
    when?: { until: string } | { for: string },
  ): Promise<void> {
    const selection = ids === 'all' ? { all: true as const } : { ids: [...ids] };
    if (ids !== 'all' && ids.length === 0) return;
    store.apply(applied, ids, new Date().toISOString());
    changed();
    const frame = { type: kind, ...selection, ...(when ?? {}) } as ClientFrame;
    if (!send(frame)) applyCounts((await http.change(kind, { ...selection, ...(when ?? {}) })).counts);
  }

  function send(frame: ClientFrame): boolean {
    if (!socket || socket.readyState !== OPEN) return false;
    socket.send(JSON.stringify(frame));
    return true;
  }

  /** The user's preferences over the socket while it is open (answered by ref), else over HTTP. */
  function preferencesCall(
    frame: { type: 'getPreferences' } | { type: 'setPreferences'; preferences: Preferences },
    overHttp: () => Promise<Preferences>,
  ): Promise<Preferences> {
    const ref = `pref-${++lastRef}`;
    return new Promise<Preferences>((resolve, reject) => {
      awaiting.set(ref, { resolve, reject, overHttp });
      if (!send({ ...frame, ref })) settleOverHttp(ref);
    });
  }

  function settleOverHttp(ref: string): void {
    const waiting = awaiting.get(ref);
    if (!waiting) return;
    awaiting.delete(ref);
    waiting.overHttp().then(waiting.resolve, waiting.reject);
  }

  /** After a hello with `since` and `more`, the rest comes over HTTP; resumeSeq moves once it is all in. */
  async function fillFrom(since: number, upTo: number): Promise<void> {
    filling = true;
    try {
      let from = since;
      for (;;) {
        const page = await http.page({ since: from, limit: MAX_PAGE });
        addLive(page.items);
        const last = page.items.at(-1);
        if (!last || page.items.length < MAX_PAGE) break;
        from = last.seq;
      }
      advanceResume(upTo);
    } catch (err) {
      emit('error', { code: 'resume_failed', message: String(err) });
      socket?.close(4000, 'resume failed');
    } finally {
      filling = false;
    }
  }

  /** After missed changes: the newest page in any state says what became of the items held. */
  function reconcileSoon(): void {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(() => {
      http
        .page({ limit: MAX_PAGE, status: 'any' })
        .then((page) => {
          for (const item of page.items) store.put(item);
          changed();
          applyCounts(page.counts);
        })
        .catch(() => undefined); // the next version jump tries again
    }, 50);
  }

  function onFrame(frame: ServerFrame): void {
    switch (frame.type) {
      case 'hello': {
        userId = frame.userId;
        attempt = 0;
        const since = resumeSeq;
        addLive(frame.items);
        // A fresh connection's counts are the truth, even at a version this client saw from another tab.
        counts = undefined;
        applyCounts(frame.counts);
        setUnread(frame.unread);
        setStatus('open');
        if (since !== undefined && frame.more) {
          const last = frame.items.at(-1)?.seq ?? since;
          void fillFrom(last, frame.lastSeq);
        } else advanceResume(frame.lastSeq);
        // Items held from before may have changed state while this client was away.
        if (since !== undefined) reconcileSoon();
        return;
      }
      case 'message':
        addLive([frame.item]);
        heldAbove.add(frame.item.seq);
        if (!filling) advanceResume();
        applyCounts(frame.counts);
        return;
      case 'changed':
        // A change from any socket or HTTP call of this user, on any instance.
        if (frame.ids === null || frame.change === 'unarchived') reconcileSoon();
        else {
          store.apply(frame.change, frame.ids, new Date().toISOString(), frame.action);
          changed();
        }
        applyCounts(frame.counts);
        return;
      case 'counts':
        applyCounts(frame.counts);
        return;
      case 'preferences': {
        const waiting = frame.ref === undefined ? undefined : awaiting.get(frame.ref);
        if (waiting && frame.ref !== undefined) {
          awaiting.delete(frame.ref);
          waiting.resolve(frame.preferences);
        }
        return;
      }
      case 'ack':
      case 'count':
        return;
      case 'pong':
        awaitingPong = false;
        return;
      case 'error': {
        const waiting = frame.ref === undefined ? undefined : awaiting.get(frame.ref);
        if (waiting && frame.ref !== undefined) {
          // Refused (invalid_frame, …): the caller's to handle, as an HTTP 4xx would be.
          awaiting.delete(frame.ref);
          waiting.reject(new HeraldHttpError(400, frame.code, frame.message));
          return;
        }
        emit('error', { code: frame.code, message: frame.message });
      }
    }
  }

  /** Why the upgrade was refused: the HTTP inbox answers with the same token and says. */
  async function refusalReason(): Promise<InboxError> {
    try {
      await http.page({ limit: 1 });
      return { code: 'connect_failed', message: 'the socket could not be opened' };
    } catch (err) {
      if (err instanceof HeraldHttpError) return { code: err.code, message: err.message };
      return { code: 'connect_failed', message: String(err) };
    }
  }

  function scheduleReconnect(error?: InboxError): void {
    if (closed) return;
    setStatus('offline', error);
    clearTimeout(reconnectTimer);
    reconnectTimer = setTimeout(() => void open(), backoffDelay(attempt, backoff));
    attempt += 1;
  }

  function stopPing(): void {
    clearInterval(pingTimer);
    pingTimer = undefined;
    awaitingPong = false;
  }

  async function open(): Promise<void> {
    if (closed) return;
    clearTimeout(reconnectTimer);
    setStatus('connecting');
    try {
      token = await options.token();
    } catch (err) {
      scheduleReconnect({ code: 'token_failed', message: String(err) });
      return;
    }
    if (closed) return;
    const q = new URLSearchParams({ token });
    if (resumeSeq !== undefined) q.set('since', String(resumeSeq));
    const ws = new Socket(`${wsUrl}/v1/ws?${q.toString()}`);
    socket = ws;
    let opened = false;
    ws.onopen = () => {
      opened = true;
      stopPing();
      pingTimer = setInterval(() => {
        if (awaitingPong) {
          ws.close(4000, 'no pong');
          return;
        }
        awaitingPong = send({ type: 'ping' });
      }, pingMs);
    };
    ws.onmessage = (ev) => {
      let frame: ServerFrame;
      try {
        frame = JSON.parse(String(ev.data)) as ServerFrame;
      } catch {
        return;
      }
      onFrame(frame);
    };
    ws.onerror = () => undefined; // a close always follows
    ws.onclose = (ev) => {
      if (socket === ws) socket = undefined;
      stopPing();
      // Requests this socket will never answer go over HTTP (each a read, or a replace that is idempotent).
      for (const ref of [...awaiting.keys()]) settleOverHttp(ref);
      if (closed) return;
      if (ev.code === CLOSE_CODES.tokenExpired) {
        // The token ran out on a good connection: at once, with a fresh one.
        attempt = 0;
        void open();
        return;
      }
      if (!opened) void refusalReason().then((reason) => scheduleReconnect(reason));
      else scheduleReconnect({ code: `closed_${ev.code}`, message: ev.reason || 'connection lost' });
    };
  }

  const onOnline = () => {
    if (!socket && !closed) {
      attempt = 0;
      void open();
    }
  };
  const win = globalThis as { addEventListener?: (type: string, fn: () => void) => void };
  win.addEventListener?.('online', onOnline);

  void open();

  return {
    get status() {
      return status;
    },
    get unread() {
      return unread;
    },
    get counts() {
      return counts;
    },
    get userId() {
      return userId;
    },
    items: () => store.list(),
    on(event, listener) {
      let set = listeners.get(event);
      if (!set) listeners.set(event, (set = new Set()));
      set.add(listener as (v: never) => void);
      return () => set.delete(listener as (v: never) => void);
    },
    markRead: (ids) => change('read', 'read', ids),
    markAllRead: () => change('read', 'read', 'all'),
    markSeen: (ids) => change('seen', 'seen', ids),
    markUnread: (ids) => change('unread', 'unread', ids),
    archive: (ids) => change('archive', 'archived', ids),
    unarchive: (ids) => change('unarchive', 'unarchived', ids),
    remove: (ids) => change('delete', 'deleted', ids),
    snooze: (ids, when) => change('snooze', 'snoozed', ids, when),
    async act(id, action) {
      const item = store.get(id);
      const key = item?.actions?.[action];
      store.apply('actioned', [id], new Date().toISOString(), key && 'key' in key ? key.key : action);
      changed();
      if (!send({ type: 'action', id, action })) applyCounts((await http.action(id, action)).counts);
    },
    async tabPage(tab, cursor) {
      const page = await http.page({ tab, limit: pageSize, cursor });
      applyCounts(page.counts);
      return { items: page.items, nextCursor: page.nextCursor };
    },
    preferences: () => preferencesCall({ type: 'getPreferences' }, () => http.preferences()),
    setPreferences: (p) =>
      preferencesCall({ type: 'setPreferences', preferences: p }, () => http.setPreferences(p)),
    async loadOlder() {
      if (olderCursor === null) return { items: [], done: true };
      const page = await http.page({ limit: pageSize, cursor: olderCursor });
      olderCursor = page.nextCursor;
      const added = page.items.filter((i) => store.put(i));
      if (added.length > 0) changed();
      return { items: added, done: olderCursor === null };
    },
    close() {
      closed = true;
      clearTimeout(reconnectTimer);
      clearTimeout(refreshTimer);
      stopPing();
      const win2 = globalThis as { removeEventListener?: (type: string, fn: () => void) => void };
      win2.removeEventListener?.('online', onOnline);
      socket?.close(1000, 'closed by the client');
      socket = undefined;
      setStatus('closed');
    },
  };
}
