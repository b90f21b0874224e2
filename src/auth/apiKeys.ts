import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { AuditInTx } from '../audit/auditLog';
import type { ApiKey, PrismaClient } from '../generated/prisma/client';
import { NotFoundError } from '../errors';
import { scopeSchema, type Principal, type Scope } from './scopes';

/** Every API key starts with this, so a leaked one is recognisable (secret scanners, logs, a reviewer). */
export const API_KEY_PREFIX = 'hk_';

export interface ApiKeyView {
  id: string;
  name: string;
  scopes: Scope[];
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

export type ApiKeyChangeListener = (id: string, origin: 'local' | 'remote') => void;

export interface ApiKeyService {
  /** The key itself is in this answer only; Herald keeps its SHA-256. */
  /** `audit`, the change's audit row, is written in the change's transaction. */
  create(
    input: { name: string; scopes: Scope[] },
    audit?: AuditInTx<ApiKeyView>,
  ): Promise<{ key: string; view: ApiKeyView }>;
  /** Newest first; `after` is the (createdAt, id) of the last key of the previous page. */
  list(page: { limit: number; after?: { at: Date; id: string } }): Promise<ApiKeyView[]>;
  get(id: string): Promise<ApiKeyView>;
  /**
   * Revokes at once here, and (through the change broadcast) on every instance. Idempotent: `revokedNow`
   * is false for a key that was revoked already, and `audit` is then not called: nothing changed.
   */
  revoke(id: string, audit?: AuditInTx<ApiKeyView>): Promise<{ view: ApiKeyView; revokedNow: boolean }>;
  /** The key's principal, or undefined for an unknown or revoked key. */
  resolve(key: string): Promise<Principal | undefined>;
  /**
   * Forgets what this instance cached of a key (a revocation announced by another instance), or of every
   * key (announcements may have been missed).
   */
  invalidate(id?: string): void;
  onChange(listener: ApiKeyChangeListener): () => void;
}

const hashOf = (key: string): Buffer => createHash('sha256').update(key).digest();
/** Touching lastUsedAt on every request would write on every request; a minute is precise enough. */
const LAST_USED_PRECISION_MS = 60_000;
const MAX_CACHED = 10_000;

function toView(row: ApiKey): ApiKeyView {
  return {
    id: row.id,
    name: row.name,
    scopes: row.scopes.map((s) => scopeSchema.parse(s)),
    createdAt: row.createdAt,
    lastUsedAt: row.lastUsedAt,
    revokedAt: row.revokedAt,
  };
}

/**
 * Scoped API keys, looked up by hash on each request through a short cache. Only keys that exist are
 * cached, so a guessed key costs a lookup (the failed-auth limit bounds those) and never fills memory.
 */
export function createApiKeyService(deps: { prisma: PrismaClient; cacheTtlMs: number }): ApiKeyService {
  const { prisma, cacheTtlMs } = deps;
  const cache = new Map<string, { until: number; principal: Principal; hash: Buffer }>();
  const listeners = new Set<ApiKeyChangeListener>();
  // A lookup that started before a revocation must not cache its stale answer after it.
  let generation = 0;

  function changed(id: string | undefined, origin: 'local' | 'remote'): void {
    generation++;
    for (const [k, v] of cache) if (id === undefined || v.principal.id === id) cache.delete(k);
    if (id === undefined) return;
    for (const l of listeners) {
      try {
        l(id, origin);
      } catch {
        // A listener's failure must not turn a committed revocation into an error answer.
      }
    }
  }

  async function lookup(hash: Buffer): Promise<Principal | undefined> {
    const row = await prisma.apiKey.findUnique({ where: { hash: new Uint8Array(hash) } });
    if (!row || row.revokedAt || !timingSafeEqual(Buffer.from(row.hash), hash)) return undefined;
    if (!row.lastUsedAt || Date.now() - row.lastUsedAt.getTime() > LAST_USED_PRECISION_MS)
      await prisma.apiKey.update({ where: { id: row.id }, data: { lastUsedAt: new Date() } });
    return { id: row.id, name: row.name, scopes: toView(row).scopes };
  }

  return {
    async create({ name, scopes }, audit) {
      const key = `${API_KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
      const view = await prisma.$transaction(async (tx) => {
        const row = await tx.apiKey.create({
          data: { name, scopes: [...new Set(scopes)], hash: new Uint8Array(hashOf(key)) },
        });
        await audit?.({ prisma: tx }, toView(row));
        return toView(row);
      });
      return { key, view };
    },

    async list({ limit, after }) {
      const rows = await prisma.apiKey.findMany({
        where: after
          ? { OR: [{ createdAt: { lt: after.at } }, { createdAt: after.at, id: { lt: after.id } }] }
          : {},
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
        take: limit,
      });
      return rows.map(toView);
    },

    async get(id) {
      const row = await prisma.apiKey.findUnique({ where: { id } });
      if (!row) throw new NotFoundError('API key', id);
      return toView(row);
    },

    async revoke(id, audit) {
      const result = await prisma.$transaction(async (tx) => {
        const row = await tx.apiKey.findUnique({ where: { id } });
        if (!row) throw new NotFoundError('API key', id);
        if (row.revokedAt) return { view: toView(row), revokedNow: false };
        const view = toView(await tx.apiKey.update({ where: { id }, data: { revokedAt: new Date() } }));
        await audit?.({ prisma: tx }, view);
        return { view, revokedNow: true };
      });
      changed(id, 'local');
      return result;
    },

    async resolve(key) {
      if (!key.startsWith(API_KEY_PREFIX)) return undefined;
      const hash = hashOf(key);
      const cacheKey = hash.toString('base64');
      const hit = cache.get(cacheKey);
      if (hit && hit.until > Date.now() && timingSafeEqual(hit.hash, hash)) return hit.principal;
      cache.delete(cacheKey);
      const started = generation;
      const principal = await lookup(hash);
      if (principal && cacheTtlMs > 0 && started === generation) {
        if (cache.size >= MAX_CACHED) cache.clear();
        cache.set(cacheKey, { until: Date.now() + cacheTtlMs, principal, hash });
      }
      return principal;
    },

    invalidate(id) {
      changed(id, 'remote');
    },

    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
