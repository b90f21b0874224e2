import { createHash } from 'node:crypto';
import { buildApp, type App } from '../../src/app';
import { loggerOptions } from '../../src/http/logger';
import { describeWith } from '../support/services';
import { auth, createTestApp, type TestApp } from '../support/testApp';
import { createTestPostgres, type TestDatabase } from '../support/testDatabase';

describeWith(
  ['postgres'],
  'an API key is shown once and never again: not in a response, a log line or a column',
  () => {
    let tdb: TestDatabase;
    let t: TestApp;
    let app: App;
    const lines: string[] = [];
    const later: string[] = [];

    beforeAll(async () => {
      tdb = await createTestPostgres();
      t = await createTestApp(tdb.db);
      const base = loggerOptions('trace');
      if (typeof base !== 'object') throw new Error('loggerOptions should give an options object');
      app = await buildApp(t.ctx, { logger: { ...base, stream: { write: (l: string) => lines.push(l) } } });
    });
    afterAll(async () => {
      await app?.close();
      await t?.close();
      await tdb?.drop();
    });

    async function call(
      method: 'GET' | 'POST' | 'PUT' | 'DELETE',
      url: string,
      token: string,
      payload?: unknown,
    ) {
      const res = await app.inject({
        method,
        url,
        headers: {
          authorization: `Bearer ${token}`,
          ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(payload === undefined ? {} : { payload: JSON.stringify(payload) }),
      });
      return res;
    }

    it('keeps only the SHA-256 of the key, and no later answer or log line carries the key', async () => {
      const created = await call('POST', '/v1/keys', auth.authorization.slice(7), {
        name: 'leak',
        scopes: ['read'],
      });
      expect(created.statusCode).toBe(201);
      expect(created.headers['cache-control']).toBe('no-store');
      const { id, key } = created.json<{ id: string; key: string }>();
      const linesAtCreation = lines.length;

      const rows = await tdb.db.sql.query<{ hash: Buffer; name: string }>(
        'SELECT "hash", "name", array_to_string("scopes", \',\') AS scopes FROM "ApiKey"',
      );
      expect(rows.rows).toHaveLength(1);
      expect(Buffer.from(rows.rows[0]?.hash ?? []).equals(createHash('sha256').update(key).digest())).toBe(
        true,
      );
      expect(JSON.stringify(rows.rows)).not.toContain(key.slice(3));

      const exchanges = [
        await call('GET', '/v1/templates', key), // 200
        await call('GET', '/v1/channel-accounts', key), // 403
        await call('POST', '/v1/keys', key, { name: 'x', scopes: ['admin'] }), // 403
        await call('GET', '/v1/nowhere', key), // 404
        await call('GET', '/v1/keys', auth.authorization.slice(7)),
        await call('DELETE', `/v1/keys/${id}`, auth.authorization.slice(7)),
        await call('GET', '/v1/templates', key), // 401: revoked
        await call('GET', `/v1/templates?token=${key}`, key),
      ];
      expect(exchanges.map((r) => r.statusCode)).toEqual([200, 403, 403, 404, 200, 200, 401, 401]);
      for (const r of exchanges) later.push(`${JSON.stringify(r.headers)} ${r.body}`);
      expect(later.filter((b) => b.includes(key))).toEqual([]);
      expect(later.filter((b) => b.includes(key.slice(3, 20)))).toEqual([]);
      // The request lines are there (so the search below searched something), the key is not.
      expect(lines.length).toBeGreaterThan(linesAtCreation + exchanges.length);
      expect(lines.filter((l) => l.includes(key.slice(3, 20)))).toEqual([]);
    });
  },
);
