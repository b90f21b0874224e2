import { createTestPglite, type TestDatabase } from '../support/testDatabase';
import { ADMIN_TOKEN, createTestApp, type TestApp } from '../support/testApp';

let tdb: TestDatabase;
let t: TestApp;

beforeAll(async () => {
  tdb = await createTestPglite();
  t = await createTestApp(tdb.db);
});
afterAll(async () => {
  await t.close();
  await tdb.drop();
});

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
    t.ctx.readiness.broker = async () => {
      throw new Error('connection refused');
    };
    try {
      const res = await t.app.inject({ method: 'GET', url: '/ready' });
      expect(res.statusCode).toBe(503);
      expect(res.json().checks.broker).toEqual({ ok: false, error: 'connection refused' });
    } finally {
      delete t.ctx.readiness.broker;
    }
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
