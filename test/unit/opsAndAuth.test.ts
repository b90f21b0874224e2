import { buildApp } from '../../src/app';
import { createAppContext } from '../../src/appContext';
import { createTestPglite } from '../support/testDatabase';
import { ADMIN_TOKEN, createTestApp, useTestApp, type TestApp } from '../support/testApp';

const t = useTestApp(createTestPglite);

describe('ops routes', () => {
  it('answers /health without a token', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/health' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok' });
  });

  it('reports readiness of each part', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/ready' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      status: 'ready',
      checks: { database: { ok: true }, secrets: { ok: true } },
    });
  });

  it('says not ready, with the reason, when a part fails', async () => {
    const failing = await buildApp(
      createAppContext({
        ...t.ctx,
        readiness: {
          broker: async () => {
            throw new Error('connection refused');
          },
        },
      }),
    );
    try {
      const res = await failing.inject({ method: 'GET', url: '/ready' });
      expect(res.statusCode).toBe(503);
      expect(res.json().checks.broker).toEqual({ ok: false, error: 'connection refused' });
    } finally {
      await failing.close();
    }
  });

  it('is frozen once built: no part of the context can be swapped afterwards', () => {
    expect(Object.isFrozen(t.ctx)).toBe(true);
    expect(Object.isFrozen(t.ctx.services)).toBe(true);
    expect(Object.isFrozen(t.ctx.readiness)).toBe(true);
  });

  it('serves an OpenAPI document', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/docs/json' });
    expect(res.statusCode).toBe(200);
    expect(res.json().openapi).toBe('3.1.0');
  });

  it('answers unknown routes with problem+json', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/nope' });
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(res.json().code).toBe('route_not_found');
  });
});

describe('HERALD_ROLES decides which routes exist', () => {
  let consumer: TestApp;
  beforeAll(async () => {
    consumer = await createTestApp(t.db, { HERALD_ROLES: 'consumer' });
  });
  afterAll(async () => {
    await consumer.close();
  });

  it('a consumer-only process serves /health, /ready and /metrics', async () => {
    for (const url of ['/health', '/ready', '/metrics'])
      expect((await consumer.app.inject({ method: 'GET', url })).statusCode).toBe(200);
  });

  it.each(['/v1/templates', '/docs', '/docs/json', '/v1/channel-accounts', '/v1/ws', '/demo/inbox'])(
    'a consumer-only process answers 404 on %s, even with the admin token',
    async (url) => {
      const res = await consumer.app.inject({
        method: 'GET',
        url,
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      });
      expect(res.statusCode).toBe(404);
    },
  );

  it('the same request reaches the admin API where the api role runs', async () => {
    const res = await t.app.inject({
      method: 'GET',
      url: '/v1/templates',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(res.statusCode).toBe(200);
  });
});

describe('admin auth on /v1', () => {
  it.each([
    ['no header', undefined],
    ['a wrong token', `Bearer ${ADMIN_TOKEN}x`],
    ['a prefix of the token', `Bearer ${ADMIN_TOKEN.slice(0, 10)}`],
    ['another scheme', `Basic ${ADMIN_TOKEN}`],
  ])('refuses %s with 401 problem+json', async (_label, header) => {
    const res = await t.app.inject({
      method: 'GET',
      url: '/v1/anything',
      headers: header ? { authorization: header } : {},
    });
    expect(res.statusCode).toBe(401);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(res.headers['www-authenticate']).toBe('Bearer');
    expect(res.json()).toMatchObject({ status: 401, code: 'unauthorized' });
  });
});
