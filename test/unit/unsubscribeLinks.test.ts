import { randomBytes } from 'node:crypto';
import { createUnsubscribeLinks, LinkError } from '../../src/audience/unsubscribeLinks';

const DAY = 86_400_000;
const key = randomBytes(32);
let clock = Date.parse('2026-12-01T12:00:00Z');
const links = (over: Partial<Parameters<typeof createUnsubscribeLinks>[0]> = {}) =>
  createUnsubscribeLinks({
    secretKey: key,
    previousSecretKeys: [],
    publicUrl: 'https://herald.example.com',
    ttlMs: 90 * DAY,
    now: () => clock,
    ...over,
  });

const refusal = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    if (err instanceof LinkError) return err.reason;
    throw err;
  }
  return 'accepted';
};

/** The token with its payload's JSON changed, keeping the signature. */
function withPayload(token: string, change: (p: Record<string, unknown>) => void): string {
  const [body, sig] = token.split('.') as [string, string];
  const payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Record<string, unknown>;
  change(payload);
  return `${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${sig}`;
}

describe('unsubscribe links', () => {
  const deliveryId = '7d3f0c1e-5b5a-4a8e-9a43-0c6c1c1f8a10';

  it('round-trips a user, a category and the delivery, under the public URL', () => {
    const l = links();
    const url = l.url({ subject: { userId: 'u-17' }, channel: 'mail', category: 'billing', deliveryId });
    expect(url).toMatch(/^https:\/\/herald\.example\.com\/unsubscribe\?token=[\w-]+\.[\w-]+$/);
    const token = new URL(url).searchParams.get('token') as string;
    expect(l.verify(token)).toEqual({
      subject: { userId: 'u-17' },
      channel: 'mail',
      category: 'billing',
      deliveryId,
      expiresAt: new Date(clock + 90 * DAY - ((clock + 90 * DAY) % 1000)),
    });
  });

  it('holds an address (lower-cased) for a recipient without a user id, and a null category', () => {
    const l = links();
    const v = l.verify(l.token({ subject: { address: 'Li@Example.com' }, channel: 'mail', category: null }));
    expect(v.subject).toEqual({ address: 'li@example.com' });
    expect(v.category).toBeNull();
  });

  it('refuses a link whose user, category or expiry was changed, or whose signature was', () => {
    const l = links();
    const token = l.token({ subject: { userId: 'u-17' }, channel: 'mail', category: 'billing' });
    expect(refusal(() => l.verify(withPayload(token, (p) => (p.u = 'u-18'))))).toBe('invalid');
    expect(refusal(() => l.verify(withPayload(token, (p) => (p.c = 'news'))))).toBe('invalid');
    expect(refusal(() => l.verify(withPayload(token, (p) => (p.h = 'im'))))).toBe('invalid');
    expect(refusal(() => l.verify(withPayload(token, (p) => (p.x = Number(p.x) + 1e6))))).toBe('invalid');
    const [body, sig] = token.split('.') as [string, string];
    const flipped = `${body}.${sig.slice(0, -2)}${sig.endsWith('AA') ? 'AB' : 'AA'}`;
    expect(refusal(() => l.verify(flipped))).toBe('invalid');
    expect(refusal(() => l.verify(`${body}.`))).toBe('invalid');
    expect(refusal(() => l.verify(`${token}.x`))).toBe('invalid');
    expect(refusal(() => l.verify('not-a-token'))).toBe('invalid');
  });

  it('refuses a link signed with another key, and still takes one signed with a previous key', () => {
    const other = links({ secretKey: randomBytes(32) });
    const token = other.token({ subject: { userId: 'u-17' }, channel: 'mail', category: null });
    expect(refusal(() => links().verify(token))).toBe('invalid');
    const rotated = links({ secretKey: randomBytes(32), previousSecretKeys: [key] });
    const old = links().token({ subject: { userId: 'u-17' }, channel: 'mail', category: null });
    expect(rotated.verify(old).subject).toEqual({ userId: 'u-17' });
  });

  it('expires after the configured time, not before', () => {
    const l = links({ ttlMs: 2 * DAY });
    const token = l.token({ subject: { userId: 'u-17' }, channel: 'mail', category: null });
    clock += 2 * DAY - 5000;
    expect(refusal(() => l.verify(token))).toBe('accepted');
    clock += 10_000;
    expect(refusal(() => l.verify(token))).toBe('expired');
  });
});
