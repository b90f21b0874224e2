import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HeraldError } from '../errors';
import { bearerToken } from './adminAuth';

export interface FailedAuthLimitOptions {
  /** Failed authentications (401 answers) one IP may cause per window; 0 turns the limit off. */
  limit: number;
  windowMs: number;
  now?: () => number;
}

interface IpState {
  windowStart: number;
  failures: number;
  /** Digests of credentials that authenticated from this IP, with when they last did. */
  known: Map<string, number>;
}

/** How long a credential that worked from an IP still gets through while that IP is blocked. */
const KNOWN_GOOD_MS = 60 * 60_000;
const MAX_KNOWN_PER_IP = 32;
/** Past this many tracked IPs, idle ones are swept so the map stays bounded. */
const SWEEP_AT = 10_000;

export type LimitVerdict = { blocked: false } | { blocked: true; retryAfterMs: number };

/**
 * Counts failed authentications per IP in a fixed window, in this process's memory (each instance
 * behind a load balancer counts its own). Once an IP is over the limit its requests are refused before
 * any token is checked, so guesses made while blocked learn nothing; credentials that already worked
 * from that IP still pass, so an attacker behind the same NAT cannot lock out working clients.
 */
export function createFailedAuthLimiter(opts: FailedAuthLimitOptions) {
  const now = opts.now ?? Date.now;
  const ips = new Map<string, IpState>();
  const digest = (credential: string) => createHash('sha256').update(credential).digest('base64');

  function state(ip: string): IpState {
    let s = ips.get(ip);
    if (!s) {
      if (ips.size >= SWEEP_AT) sweep();
      s = { windowStart: now(), failures: 0, known: new Map() };
      ips.set(ip, s);
    }
    return s;
  }

  function sweep(): void {
    const t = now();
    for (const [ip, s] of ips) {
      const windowOver = t - s.windowStart >= opts.windowMs;
      for (const [d, at] of s.known) if (t - at >= KNOWN_GOOD_MS) s.known.delete(d);
      if (windowOver && s.known.size === 0) ips.delete(ip);
    }
  }

  return {
    check(ip: string, credential: string | undefined): LimitVerdict {
      const s = ips.get(ip);
      if (opts.limit === 0 || !s || s.failures < opts.limit) return { blocked: false };
      const elapsed = now() - s.windowStart;
      if (elapsed >= opts.windowMs) return { blocked: false };
      const seen = credential === undefined ? undefined : s.known.get(digest(credential));
      if (seen !== undefined && now() - seen < KNOWN_GOOD_MS) return { blocked: false };
      return { blocked: true, retryAfterMs: opts.windowMs - elapsed };
    },
    failed(ip: string): void {
      if (opts.limit === 0) return;
      const s = state(ip);
      if (now() - s.windowStart >= opts.windowMs) {
        s.windowStart = now();
        s.failures = 0;
      }
      s.failures += 1;
    },
    succeeded(ip: string, credential: string): void {
      if (opts.limit === 0) return;
      const s = state(ip);
      const d = digest(credential);
      s.known.delete(d);
      if (s.known.size >= MAX_KNOWN_PER_IP) s.known.delete(s.known.keys().next().value as string);
      s.known.set(d, now());
    },
  };
}

export type FailedAuthLimiter = ReturnType<typeof createFailedAuthLimiter>;

/**
 * The credential a request presents: the bearer token, else the `?token=` a WebSocket client sends.
 * Bearer first, as admin routes read only the header: a known `?token=` must not let a guessed
 * header through the gate.
 */
function credentialOf(req: FastifyRequest): string | undefined {
  const q = req.query as { token?: unknown } | undefined;
  return bearerToken(req) ?? (typeof q?.token === 'string' && q.token !== '' ? q.token : undefined);
}

/**
 * Hooks on the root instance, so they cover every route under `prefix` and its 404s (which answer 401
 * without a valid token). A 401 counts as a failure; any other answer means the credential was accepted.
 */
export function registerFailedAuthLimit(
  app: FastifyInstance,
  limiter: FailedAuthLimiter,
  prefix: string,
): void {
  app.addHook('onRequest', async (req, reply) => {
    if (!req.url.startsWith(prefix)) return;
    const verdict = limiter.check(req.ip, credentialOf(req));
    if (!verdict.blocked) return;
    void reply.header('retry-after', String(Math.ceil(verdict.retryAfterMs / 1000)));
    throw new HeraldError(
      'too_many_failed_auth',
      'too many failed authentications from this address; try again later',
      429,
    );
  });
  app.addHook('onResponse', async (req, reply) => {
    if (!req.url.startsWith(prefix)) return;
    const credential = credentialOf(req);
    if (reply.statusCode === 401) limiter.failed(req.ip);
    else if (reply.statusCode !== 429 && credential !== undefined) limiter.succeeded(req.ip, credential);
  });
}
