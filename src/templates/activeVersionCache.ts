import type { StoredTemplateVersion } from './storedTemplateVersion';

export interface ActiveVersionCache {
  get(code: string): Promise<StoredTemplateVersion | undefined>;
  /** Drops one code, or everything when omitted. */
  invalidate(code?: string): void;
}

interface Entry {
  expiresAt: number;
  value: Promise<StoredTemplateVersion | undefined>;
}

/**
 * The active version of each template code, in process. Explicit invalidation (local writes, and the
 * broadcasts other instances send) keeps it fresh; the TTL bounds staleness should a broadcast be
 * missed. Unknown and archived codes are cached too, so a flood of envelopes for them stays off the
 * database. Concurrent misses for one code share one load.
 */
export function createActiveVersionCache(
  load: (code: string) => Promise<StoredTemplateVersion | undefined>,
  opts: { ttlMs?: number; maxEntries?: number; now?: () => number } = {},
): ActiveVersionCache {
  const ttlMs = opts.ttlMs ?? 30_000;
  const maxEntries = opts.maxEntries ?? 10_000;
  const now = opts.now ?? Date.now;
  const entries = new Map<string, Entry>();

  return {
    get(code) {
      const hit = entries.get(code);
      if (hit && hit.expiresAt > now()) return hit.value;
      const entry: Entry = { expiresAt: now() + ttlMs, value: load(code) };
      entries.delete(code);
      entries.set(code, entry);
      if (entries.size > maxEntries) entries.delete(entries.keys().next().value as string);
      // A failed load is not remembered; only this entry is dropped, not a newer one set meanwhile.
      entry.value.catch(() => {
        if (entries.get(code) === entry) entries.delete(code);
      });
      return entry.value;
    },
    invalidate(code) {
      if (code === undefined) entries.clear();
      else entries.delete(code);
    },
  };
}
