/**
 * What the gateway and the HTTP inbox send, written out for browsers (the server's zod schemas in
 * src/gateway/protocol.ts and src/inbox/inboxItem.ts are the source; test/client checks these match).
 */
export type Severity = 'low' | 'normal' | 'high' | 'critical';

export type ItemAction = { label: string; url: string } | { label: string; key: string };

export interface InboxItem {
  id: string;
  /** Per-user increasing sequence number (gaps are possible). */
  seq: number;
  title: string;
  body: string;
  url: string | null;
  category: string | null;
  tags: string[];
  severity: Severity;
  data: unknown;
  actions: { primary?: ItemAction; secondary?: ItemAction } | null;
  createdAt: string;
  seenAt: string | null;
  readAt: string | null;
  archivedAt: string | null;
  snoozedUntil: string | null;
  expiresAt: string | null;
  actionedAt: string | null;
  action: string | null;
}

/** A user's counts; keep the highest `version` seen (a jump means missed frames: refetch). */
export interface InboxCounts {
  version: number;
  unread: number;
  unseen: number;
  tabs: Record<string, { unread: number; unseen: number }>;
}

export type InboxFilter = { tab: string } | { category?: string; tags?: string[]; severity?: Severity[] };

export type ChangeName =
  'seen' | 'read' | 'unread' | 'archived' | 'unarchived' | 'snoozed' | 'deleted' | 'expired' | 'actioned';

type Counted = { counts: InboxCounts; unread: number };

export type ServerFrame =
  | ({ type: 'hello'; userId: string; lastSeq: number; items: InboxItem[]; more: boolean } & Counted)
  | ({ type: 'message'; item: InboxItem } & Counted)
  | ({
      type: 'changed';
      change: ChangeName;
      ids: string[] | null;
      until?: string;
      id?: string;
      action?: string;
    } & Counted)
  | ({ type: 'counts' } & Counted)
  | { type: 'ack'; ref: string; updated: number }
  | { type: 'count'; ref?: string; filter: InboxFilter; total: number; unread: number; unseen: number }
  | { type: 'pong'; ref?: string }
  | { type: 'preferences'; ref?: string; preferences: Preferences }
  | { type: 'error'; ref?: string; code: string; message: string };

type Selection = { ids: string[] } | { upToSeq: number } | { all: true } | { filter: InboxFilter };

export type ClientFrame =
  | ({ type: 'seen' | 'read' | 'unread' | 'archive' | 'unarchive' | 'delete'; ref?: string } & Selection)
  | ({ type: 'snooze'; ref?: string } & Selection & ({ until: string } | { for: string }))
  | { type: 'action'; ref?: string; id: string; action: 'primary' | 'secondary' }
  | { type: 'count'; ref?: string; filter: InboxFilter }
  | { type: 'ping'; ref?: string }
  | { type: 'getPreferences'; ref?: string }
  | { type: 'setPreferences'; ref?: string; preferences: Preferences };

/** A user's own switches (GET/PUT /v1/me/preferences): anything not switched off is on. */
export interface Preferences {
  channels: Partial<Record<string, boolean>>;
  categories: Record<string, { enabled?: boolean; channels?: Partial<Record<string, boolean>> }>;
}

export interface InboxPage {
  items: InboxItem[];
  counts: InboxCounts;
  unread: number;
  nextCursor: string | null;
}

/** The close codes of the gateway a client acts on (src/gateway/protocol.ts `CLOSE`). */
export const CLOSE_CODES = {
  tokenExpired: 4001,
  slowConsumer: 4008,
  resync: 4009,
  tooManySockets: 4010,
} as const;

/** The part of the browser's WebSocket the client uses; `ws` in Node fits it too. */
export interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}

export type SocketConstructor = new (url: string) => SocketLike;
