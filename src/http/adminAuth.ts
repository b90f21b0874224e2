import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';

/** Compares in constant time: both sides are hashed to a fixed length first, so length leaks nothing. */
export function createAdminTokenCheck(tokens: readonly string[]): (candidate: string | undefined) => boolean {
  const digests = tokens.map((t) => createHash('sha256').update(t).digest());
  return (candidate) => {
    if (!candidate) return false;
    const d = createHash('sha256').update(candidate).digest();
    let ok = false;
    for (const known of digests) ok = timingSafeEqual(known, d) || ok;
    return ok;
  };
}

export function bearerToken(req: FastifyRequest): string | undefined {
  const h = req.headers.authorization;
  if (!h) return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
  return m?.[1];
}
