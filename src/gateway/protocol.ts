import { z } from 'zod';
import { describeIssues } from '../contract/zodIssues';
import { inboxItemSchema } from '../inbox/inboxItem';

/** Frames a client may send. */
export const clientFrameSchema = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('read'),
      ids: z.array(z.uuid()).min(1).max(1000).optional(),
      upToSeq: z.number().int().nonnegative().optional(),
      all: z.literal(true).optional(),
    })
    .strict()
    .refine(
      (f) => [f.ids, f.upToSeq, f.all].filter((v) => v !== undefined).length === 1,
      'a read frame takes exactly one of ids, upToSeq or all',
    ),
  z.object({ type: z.literal('ping') }).strict(),
]);

export type ClientFrame = z.infer<typeof clientFrameSchema>;

/** Frames the server sends. */
export const serverFrameSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('hello'),
    userId: z.string(),
    unread: z.number().int(),
    /** The user's newest seq when the snapshot was taken; resume from the highest seq you hold. */
    lastSeq: z.number().int(),
    /** Unread items, or with `since` every item after it; oldest first. */
    items: z.array(inboxItemSchema),
    /** More items match than `hello` carries: page on with `since` or the HTTP inbox. */
    more: z.boolean(),
  }),
  z.object({ type: z.literal('message'), item: inboxItemSchema, unread: z.number().int() }),
  z.object({ type: z.literal('unread'), unread: z.number().int() }),
  z.object({ type: z.literal('pong') }),
  z.object({ type: z.literal('error'), code: z.string(), message: z.string() }),
]);

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

export type FrameResult = { ok: true; frame: ClientFrame } | { ok: false; code: string; message: string };

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
    return { ok: false, code: 'invalid_frame', message };
  }
  return { ok: true, frame: parsed.data };
}
