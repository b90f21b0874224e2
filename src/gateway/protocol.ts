import { z } from 'zod';
import { DURATION_PATTERN } from '../contract/duration';
import { preferencesSchema } from '../contract/subscriber';
import { uuidSchema } from '../identity/uuid';
import { describeIssues } from '../contract/zodIssues';
import { CHANGE_NAMES } from '../inbox/inboxChange';
import { inboxCountsSchema } from '../inbox/inboxCounts';
import { filterRefSchema } from '../inbox/inboxFilter';
import { ACTION_SLOTS, inboxItemSchema } from '../inbox/inboxItem';

const ref = z.string().min(1).max(64).optional().describe('repeated in the ack, count or error answer');

const selection = {
  ids: z.array(uuidSchema).min(1).max(1000).optional(),
  upToSeq: z.number().int().nonnegative().optional(),
  all: z.literal(true).optional(),
  filter: filterRefSchema.optional(),
};
type SelectionFields = { ids?: unknown; upToSeq?: unknown; all?: unknown; filter?: unknown };
const oneSelection = (f: SelectionFields) =>
  [f.ids, f.upToSeq, f.all, f.filter].filter((v) => v !== undefined).length === 1;
const SELECTION_RULE = 'takes exactly one of ids, upToSeq, all or filter';

/** The change frames that take a selection and nothing else. */
export const SELECTION_FRAMES = ['seen', 'read', 'unread', 'archive', 'unarchive', 'delete'] as const;
export type SelectionFrameType = (typeof SELECTION_FRAMES)[number];

const selectionFrame = <T extends SelectionFrameType>(type: T) =>
  z
    .object({ type: z.literal(type), ref, ...selection })
    .strict()
    .refine(oneSelection, `a ${type} frame ${SELECTION_RULE}`);

/** Frames a client may send. */
export const clientFrameSchema = z
  .discriminatedUnion('type', [
    selectionFrame('seen'),
    selectionFrame('read'),
    selectionFrame('unread'),
    selectionFrame('archive'),
    selectionFrame('unarchive'),
    selectionFrame('delete'),
    z
      .object({
        type: z.literal('snooze'),
        ref,
        ...selection,
        until: z.iso.datetime({ offset: true }).optional(),
        for: z.string().regex(DURATION_PATTERN, 'a duration like 15m, 2h or 7d').optional(),
      })
      .strict()
      .refine(oneSelection, `a snooze frame ${SELECTION_RULE}`)
      .refine((f) => (f.until === undefined) !== (f.for === undefined), 'a snooze frame takes until or for'),
    z.object({ type: z.literal('action'), ref, id: uuidSchema, action: z.enum(ACTION_SLOTS) }).strict(),
    z.object({ type: z.literal('count'), ref, filter: filterRefSchema }).strict(),
    z.object({ type: z.literal('ping'), ref }).strict(),
    z.object({ type: z.literal('getPreferences'), ref }).strict(),
    z.object({ type: z.literal('setPreferences'), ref, preferences: preferencesSchema }).strict(),
  ])
  .meta({ id: 'WsClientFrame' });

export type ClientFrame = z.infer<typeof clientFrameSchema>;

const counted = { counts: inboxCountsSchema, unread: z.number().int().describe('= counts.unread') };

/** Frames the server sends. */
export const serverFrameSchema = z
  .discriminatedUnion('type', [
    z.object({
      type: z.literal('hello'),
      userId: z.string(),
      /** The user's newest seq when the snapshot was taken; resume from the highest seq you hold. */
      lastSeq: z.number().int(),
      /** Unread live items, or with `since` every item after it; oldest first. */
      items: z.array(inboxItemSchema),
      /** More items match than `hello` carries: page on with `since` or the HTTP inbox. */
      more: z.boolean(),
      ...counted,
    }),
    z.object({ type: z.literal('message'), item: inboxItemSchema, ...counted }),
    z.object({
      type: z.literal('changed'),
      change: z.enum(CHANGE_NAMES),
      ids: z.array(z.string()).nullable(),
      until: z.string().optional(),
      id: z.string().optional(),
      action: z.string().optional(),
      ...counted,
    }),
    z.object({ type: z.literal('counts'), ...counted }),
    z.object({ type: z.literal('ack'), ref: z.string(), updated: z.number().int() }),
    z.object({
      type: z.literal('count'),
      ref: z.string().optional(),
      filter: filterRefSchema,
      total: z.number().int(),
      unread: z.number().int(),
      unseen: z.number().int(),
    }),
    z.object({ type: z.literal('pong'), ref: z.string().optional() }),
    /** The answer to getPreferences and setPreferences: the user's preferences as they now stand. */
    z.object({ type: z.literal('preferences'), ref: z.string().optional(), preferences: preferencesSchema }),
    z.object({ type: z.literal('error'), ref: z.string().optional(), code: z.string(), message: z.string() }),
  ])
  .meta({ id: 'WsServerFrame' });

export type ServerFrame = z.infer<typeof serverFrameSchema>;

/** Close codes the gateway uses besides the standard ones. */
export const CLOSE = {
  goingAway: { code: 1001, reason: 'server shutting down' },
  internal: { code: 1011, reason: 'inbox unavailable: reconnect later' },
  slowConsumer: { code: 4008, reason: 'slow consumer: reconnect with since' },
  resync: { code: 4009, reason: 'missed more items than a frame carries: reconnect with since' },
  tokenExpired: { code: 4001, reason: 'token expired: reconnect with a fresh token' },
  tooManySockets: { code: 4010, reason: 'too many sockets for this user: the oldest is closed' },
} as const;

export type FrameResult =
  { ok: true; frame: ClientFrame } | { ok: false; code: string; message: string; ref?: string };

export function parseClientFrame(data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): FrameResult {
  if (isBinary) return { ok: false, code: 'binary_frame', message: 'frames are JSON text' };
  const text = Array.isArray(data)
    ? Buffer.concat(data).toString('utf8')
    : Buffer.from(data as ArrayBuffer).toString('utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, code: 'invalid_json', message: 'the frame is not valid JSON' };
  }
  const parsed = clientFrameSchema.safeParse(json);
  if (!parsed.success) {
    const message = describeIssues(parsed.error);
    const r = (json as { ref?: unknown } | null)?.ref;
    return { ok: false, code: 'invalid_frame', message, ...(typeof r === 'string' ? { ref: r } : {}) };
  }
  return { ok: true, frame: parsed.data };
}
