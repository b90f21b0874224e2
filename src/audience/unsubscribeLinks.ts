import { createHmac, timingSafeEqual } from 'node:crypto';
import { deriveKey } from '../accounts/secretBox';
import { z } from 'zod';
import { userIdSchema } from '../identity/userId';
import { channelSchema, type ChannelName } from '../contract/envelope';
import { templateCategorySchema } from '../contract/template';

/**
 * Who a link in a mail speaks for, and about what: a user (their preferences), or an address without a
 * user id (the suppression list); the template category of the mail (null without one); and the
 * delivery it came with, so what it did shows in that message's timeline.
 */
export type LinkSubject = { userId: string } | { address: string };
export interface LinkScope {
  subject: LinkSubject;
  /** The channel the link came by. */
  channel: ChannelName;
  category: string | null;
  deliveryId?: string;
}
export interface VerifiedLink extends LinkScope {
  expiresAt: Date;
}

export class LinkError extends Error {
  constructor(
    readonly reason: 'invalid' | 'expired',
    message: string,
  ) {
    super(message);
  }
}

const payloadSchema = z
  .object({
    u: userIdSchema.optional(),
    a: z.string().min(3).max(320).optional(),
    h: channelSchema,
    c: templateCategorySchema.nullable(),
    d: z.uuid().optional(),
    x: z.int().positive(),
  })
  .strict()
  .refine((p) => (p.u === undefined) !== (p.a === undefined), 'exactly one of u and a');

/** What the link secret is derived for; a new purpose (or version) gives unrelated keys. */
const PURPOSE = 'herald unsubscribe link v1';

/** One key per HERALD_SECRET_KEY, so the link MAC never shares a key with the secrets it encrypts. */
const linkKey = (secretKey: Buffer): Buffer => deriveKey(secretKey, PURPOSE);

const mac = (key: Buffer, body: string) => createHmac('sha256', key).update(body).digest();

export interface UnsubscribeLinks {
  /** The absolute URL of the link for this scope; GET shows the preferences page, POST is one-click. */
  url(scope: LinkScope): string;
  token(scope: LinkScope): string;
  /** The scope a token was signed for; a LinkError when it was not signed here, altered, or has expired. */
  verify(token: string): VerifiedLink;
}

/**
 * Signed, stateless links: `base64url(payload).base64url(HMAC-SHA256)`. The MAC covers the user (or
 * address), the channel, the category and the expiry, so a link cannot be turned into one for someone else. Links
 * signed with a previous key (HERALD_SECRET_KEY_PREVIOUS) still verify, so rotating the key does not
 * break the mails already sent.
 */
export function createUnsubscribeLinks(opts: {
  secretKey: Buffer;
  previousSecretKeys: readonly Buffer[];
  publicUrl: string;
  ttlMs: number;
  now?: () => number;
}): UnsubscribeLinks {
  const signing = linkKey(opts.secretKey);
  const verifying = [signing, ...opts.previousSecretKeys.map(linkKey)];
  const now = opts.now ?? Date.now;

  const token = (scope: LinkScope): string => {
    const s = scope.subject;
    const payload = {
      ...('userId' in s ? { u: s.userId } : { a: s.address.toLowerCase() }),
      h: scope.channel,
      c: scope.category,
      ...(scope.deliveryId ? { d: scope.deliveryId } : {}),
      x: Math.floor((now() + opts.ttlMs) / 1000),
    };
    const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
    return `${body}.${mac(signing, body).toString('base64url')}`;
  };

  return {
    token,
    url: (scope) => `${opts.publicUrl}/unsubscribe?token=${token(scope)}`,
    verify(t) {
      const [body, sig, extra] = t.split('.');
      if (!body || !sig || extra !== undefined) throw new LinkError('invalid', 'this link is not valid');
      const given = Buffer.from(sig, 'base64url');
      const ok = verifying.some((k) => {
        const want = mac(k, body);
        return given.length === want.length && timingSafeEqual(given, want);
      });
      if (!ok) throw new LinkError('invalid', 'this link is not valid');
      let parsed: z.infer<typeof payloadSchema>;
      try {
        parsed = payloadSchema.parse(JSON.parse(Buffer.from(body, 'base64url').toString('utf8')));
      } catch {
        // Signed here but not a payload this version writes: refuse rather than guess.
        throw new LinkError('invalid', 'this link is not valid');
      }
      const expiresAt = new Date(parsed.x * 1000);
      if (expiresAt.getTime() <= now()) throw new LinkError('expired', 'this link has expired');
      return {
        subject: parsed.u !== undefined ? { userId: parsed.u } : { address: parsed.a as string },
        channel: parsed.h,
        category: parsed.c,
        ...(parsed.d ? { deliveryId: parsed.d } : {}),
        expiresAt,
      };
    },
  };
}
