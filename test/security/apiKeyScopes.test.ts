import { keysCommand } from '../../src/cli/keysCommand';
import { loadConfig } from '../../src/config/loadConfig';
import { describeWith, TEST_AMQP_URL } from '../support/services';
import { heraldApi, orderShipped, type HeraldApi } from '../support/heraldApi';
import {
  createTestDeployment,
  eventually,
  type TestDeployment,
  type TestHerald,
} from '../support/testHerald';

interface KeyJson {
  id: string;
  name: string;
  scopes: string[];
  key?: string;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}
interface ProblemJson {
  code: string;
  detail: string;
  errors?: unknown;
}

const envelope = (id: string) => ({
  id,
  template: 'order_shipped',
  to: [{ userId: 'u-1', email: 'u1@example.com' }],
  data: { orderNo: id },
  channels: ['im'],
});

async function capture(run: (out: (line: string) => void) => Promise<number>) {
  const lines: string[] = [];
  const code = await run((line) => lines.push(line));
  return { code, lines };
}

describeWith(['postgres', 'rabbitmq'], 'scoped API keys across two instances (PostgreSQL, RabbitMQ)', () => {
  let dep: TestDeployment;
  let a: TestHerald;
  let b: TestHerald;
  let admin: HeraldApi;
  const keys: Record<'publish' | 'read' | 'admin', KeyJson & { key: string }> = {} as never;

  // Instance b would trust a key it has seen for ten minutes: a 401 there soon after a revocation on a can
  // only come from the change broadcast.
  beforeAll(async () => {
    dep = createTestDeployment();
    a = await dep.start();
    b = await dep.start({ HERALD_API_KEY_CACHE_MS: '600000' });
    admin = heraldApi(a.baseUrl);
    await admin.createTemplate(orderShipped());
    for (const scope of ['publish', 'read', 'admin'] as const)
      keys[scope] = await admin.post<KeyJson & { key: string }>(
        '/v1/keys',
        { name: `${scope}-service`, scopes: [scope] },
        201,
      );
  }, 120_000);
  afterAll(async () => {
    await dep?.destroy();
  });

  it('creates each key once, with the hk_ prefix, and lists them without the key', async () => {
    for (const k of Object.values(keys)) {
      expect(k.key).toMatch(/^hk_[\w-]{43}$/);
      expect(k.revokedAt).toBeNull();
    }
    const list = await heraldApi(b.baseUrl).expectStatus<{ items: KeyJson[] }>(200, 'GET', '/v1/keys');
    expect(list.items.map((k) => [k.name, k.scopes])).toEqual(
      expect.arrayContaining([
        ['publish-service', ['publish']],
        ['read-service', ['read']],
        ['admin-service', ['admin']],
      ]),
    );
    for (const k of list.items) expect(k).not.toHaveProperty('key');
    expect(JSON.stringify(list)).not.toContain('hk_');
    const first = await admin.expectStatus<{ items: KeyJson[]; nextCursor: string }>(
      200,
      'GET',
      '/v1/keys?limit=2',
    );
    const rest = await admin.expectStatus<{ items: KeyJson[]; nextCursor: null }>(
      200,
      'GET',
      `/v1/keys?limit=2&cursor=${first.nextCursor}`,
    );
    expect([...first.items, ...rest.items].map((k) => k.name)).toEqual([
      'admin-service',
      'read-service',
      'publish-service',
    ]);
    expect(rest.nextCursor).toBeNull();
  });

  it('a publish key publishes (202) on the other instance but gets 403 on PUT templates and GET channel-accounts', async () => {
    const pub = heraldApi(b.baseUrl, keys.publish.key);
    expect(await pub.call('POST', '/v1/messages', envelope('scoped-1'))).toMatchObject({
      status: 202,
      body: { id: 'scoped-1' },
    });
    await admin.finished('scoped-1');
    const put = await pub.call<ProblemJson>('PUT', '/v1/templates/order_shipped', orderShipped());
    expect(put.status).toBe(403);
    expect(put.body).toMatchObject({
      code: 'insufficient_scope',
      errors: { requiredScope: 'admin', scopes: ['publish'] },
    });
    expect(put.body.detail).toContain('"admin" scope');
    const accounts = await pub.call<ProblemJson>('GET', '/v1/channel-accounts');
    expect(accounts.status).toBe(403);
    expect(accounts.body.code).toBe('insufficient_scope');
    // A publish key reads nothing back: that is the read scope.
    expect((await pub.call<ProblemJson>('GET', '/v1/messages/scoped-1')).body).toMatchObject({
      code: 'insufficient_scope',
      errors: { requiredScope: 'read' },
    });
  });

  it('a read key reads messages, deliveries, templates, dead letters and inboxes, and cannot purge or publish', async () => {
    const read = heraldApi(b.baseUrl, keys.read.key);
    for (const path of [
      '/v1/messages/scoped-1',
      '/v1/deliveries?messageId=scoped-1',
      '/v1/templates',
      '/v1/templates/order_shipped',
      '/v1/dead-letters',
      '/v1/users/u-1/inbox',
    ])
      expect([path, (await read.call('GET', path)).status]).toEqual([path, 200]);
    const purge = await read.call<ProblemJson>('DELETE', '/v1/dead-letters?confirm=yes');
    expect(purge.status).toBe(403);
    expect(purge.body).toMatchObject({ code: 'insufficient_scope', errors: { requiredScope: 'admin' } });
    expect((await read.call('POST', '/v1/messages', envelope('scoped-2'))).status).toBe(403);
    expect((await read.call('GET', '/v1/keys')).status).toBe(403);
    expect((await read.call('POST', '/v1/users/u-1/inbox/read', { all: true })).status).toBe(403);
  });

  it('an admin-scoped key does what a bootstrap admin token does, keys included; last use is recorded', async () => {
    const adm = heraldApi(b.baseUrl, keys.admin.key);
    expect((await adm.call('GET', '/v1/channel-accounts')).status).toBe(200);
    const made = await adm.post<KeyJson>('/v1/keys', { name: 'made-by-key', scopes: ['read'] }, 201);
    expect((await adm.call('DELETE', `/v1/keys/${made.id}`)).status).toBe(200);
    const listed = await admin.expectStatus<{ items: KeyJson[] }>(200, 'GET', '/v1/keys?limit=500');
    expect(listed.items.find((k) => k.id === keys.admin.id)?.lastUsedAt).not.toBeNull();
  });

  it('a key revoked on one instance gets 401 on the other at once, though that one would cache it for ten minutes', async () => {
    const k = await admin.post<KeyJson & { key: string }>(
      '/v1/keys',
      { name: 'doomed', scopes: ['read'] },
      201,
    );
    const onB = heraldApi(b.baseUrl, k.key);
    expect((await onB.call('GET', '/v1/templates')).status).toBe(200); // cached on b from here on
    const revoked = await admin.expectStatus<KeyJson>(200, 'DELETE', `/v1/keys/${k.id}`);
    expect(revoked.revokedAt).not.toBeNull();
    const refused = await eventually(
      async () => {
        const r = await onB.call<ProblemJson>('GET', '/v1/templates');
        return r.status === 401 ? r : undefined;
      },
      5_000,
      'b to refuse the revoked key',
    );
    expect(refused.body).toMatchObject({ code: 'unauthorized', errors: [{ reason: 'unrecognised' }] });
    expect((await heraldApi(a.baseUrl, k.key).call('GET', '/v1/templates')).status).toBe(401);
    // Revoking twice changes nothing; an unknown key id is a 404.
    expect((await admin.call<KeyJson>('DELETE', `/v1/keys/${k.id}`)).body.revokedAt).toBe(revoked.revokedAt);
    expect((await admin.call('DELETE', '/v1/keys/00000000-0000-4000-8000-000000000000')).status).toBe(404);
    const audit = await admin.expectStatus<{ items: Array<{ action: string; actor: { id: string } }> }>(
      200,
      'GET',
      `/v1/audit?targetType=apiKey&targetId=${k.id}`,
    );
    expect(audit.items.map((r) => [r.action, r.actor.id])).toEqual([
      ['apiKey.revoke', 'bootstrap:1'],
      ['apiKey.create', 'bootstrap:1'],
    ]);
  });

  it('herald keys create|list|revoke: a key made on the command line works, and its revocation reaches running instances', async () => {
    const config = loadConfig({
      HERALD_HOME: a.config.HERALD_HOME,
      DATABASE_URL: dep.databaseUrl,
      AMQP_URL: TEST_AMQP_URL,
      HERALD_QUEUE_PREFIX: dep.prefix,
      LOG_LEVEL: 'silent',
    });
    const created = await capture((out) => keysCommand(config, ['create', 'cli-made', 'publish,read'], out));
    expect(created.code).toBe(0);
    const [summary, key = ''] = created.lines;
    expect(key).toMatch(/^hk_/);
    const id = /created key ([0-9a-f-]{36}) "cli-made" \(publish, read\)/.exec(summary ?? '')?.[1];
    expect(id).toBeDefined();
    const onB = heraldApi(b.baseUrl, key);
    expect((await onB.call('GET', '/v1/messages/scoped-1')).status).toBe(200);

    const listed = await capture((out) => keysCommand(config, ['list'], out));
    expect(listed.lines.find((l) => l.includes('cli-made'))).toContain('publish,read');
    expect(listed.lines.join('\n')).not.toContain('hk_');

    expect((await capture((out) => keysCommand(config, ['revoke', id ?? ''], out))).code).toBe(0);
    await eventually(
      async () => (await onB.call('GET', '/v1/messages/scoped-1')).status === 401,
      5_000,
      'b to refuse the key revoked on the command line',
    );
    const audit = await admin.expectStatus<{ items: Array<{ action: string; actor: { id: string } }> }>(
      200,
      'GET',
      `/v1/audit?targetType=apiKey&targetId=${id ?? ''}`,
    );
    expect(audit.items.map((r) => r.action)).toEqual(['apiKey.revoke', 'apiKey.create']);
    for (const r of audit.items) expect(r.actor.id).toMatch(/^cli:/);
    expect(await capture((out) => keysCommand(config, ['create', 'x', 'write'], out))).toEqual({
      code: 2,
      lines: ['unknown scope write; the scopes are publish, read, admin'],
    });
  });

  it('without the broadcast (a CLI without AMQP_URL) a revoked key is refused once the cache window passes', async () => {
    const c = await dep.start({ HERALD_API_KEY_CACHE_MS: '1000' });
    const k = await admin.post<KeyJson & { key: string }>('/v1/keys', { name: 'ttl', scopes: ['read'] }, 201);
    const onC = heraldApi(c.baseUrl, k.key);
    expect((await onC.call('GET', '/v1/templates')).status).toBe(200);
    const offline = loadConfig({
      HERALD_HOME: a.config.HERALD_HOME,
      DATABASE_URL: dep.databaseUrl,
      LOG_LEVEL: 'silent',
    });
    const revoked = await capture((out) => keysCommand(offline, ['revoke', k.id], out));
    expect(revoked.lines[0]).toContain('without AMQP_URL');
    await eventually(
      async () => (await onC.call('GET', '/v1/templates')).status === 401,
      10_000,
      'c to refuse the key after its cache window',
    );
  });
});
