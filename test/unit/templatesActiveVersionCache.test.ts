import { createActiveVersionCache } from '../../src/templates/activeVersionCache';
import type { StoredTemplateVersion } from '../../src/templates/storedTemplateVersion';

const stored = (code: string, version: number): StoredTemplateVersion => ({
  id: `${code}-${version}`,
  templateId: 't',
  code,
  version,
  name: code,
  category: null,
  critical: false,
  variables: {},
  channels: { im: { title: 't', body: 'b' } },
  locales: {},
});

describe('active version cache', () => {
  it('shares one load among concurrent misses and serves hits from memory', async () => {
    let loads = 0;
    const cache = createActiveVersionCache(async (code) => {
      loads += 1;
      return stored(code, loads);
    });
    const got = await Promise.all([cache.get('a'), cache.get('a'), cache.get('a')]);
    expect(got.map((v) => v?.version)).toEqual([1, 1, 1]);
    expect((await cache.get('a'))?.version).toBe(1);
    expect(loads).toBe(1);
  });

  it('reloads after invalidate(code), invalidate() and the TTL', async () => {
    let clock = 0;
    let loads = 0;
    const cache = createActiveVersionCache(async (code) => stored(code, ++loads), {
      ttlMs: 100,
      now: () => clock,
    });
    await cache.get('a');
    cache.invalidate('a');
    expect((await cache.get('a'))?.version).toBe(2);
    cache.invalidate();
    expect((await cache.get('a'))?.version).toBe(3);
    clock = 99;
    expect((await cache.get('a'))?.version).toBe(3);
    clock = 100;
    expect((await cache.get('a'))?.version).toBe(4);
  });

  it('remembers unknown codes but not failed loads', async () => {
    let calls = 0;
    const cache = createActiveVersionCache(async (code) => {
      calls += 1;
      if (code === 'flaky' && calls === 2) throw new Error('db down');
      return undefined;
    });
    expect(await cache.get('unknown')).toBeUndefined();
    expect(await cache.get('unknown')).toBeUndefined();
    expect(calls).toBe(1);
    await expect(cache.get('flaky')).rejects.toThrow('db down');
    expect(await cache.get('flaky')).toBeUndefined();
    expect(calls).toBe(3);
  });

  it('evicts the oldest code beyond maxEntries', async () => {
    let loads = 0;
    const cache = createActiveVersionCache(async (code) => stored(code, ++loads), { maxEntries: 2 });
    await cache.get('a');
    await cache.get('b');
    await cache.get('c');
    await cache.get('b');
    expect(loads).toBe(3);
    await cache.get('a');
    expect(loads).toBe(4);
  });
});
