import { signUserToken } from '../../src/auth/userToken';
import { loadConfig } from '../../src/config/loadConfig';
import { auth, createTestApp, type TestApp } from '../support/testApp';
import { createTestPglite, type TestDatabase } from '../support/testDatabase';

const APP = 'https://app.example.com';
const LIMIT = 3;

describe('CORS for the browser client (HERALD_CORS_ORIGINS)', () => {
  let tdb: TestDatabase;
  let t: TestApp;
  let plain: TestApp;
  let token: string;

  beforeAll(async () => {
    tdb = await createTestPglite();
    t = await createTestApp(tdb.db, {
      HERALD_CORS_ORIGINS: `${APP}, http://localhost:5173`,
      HERALD_AUTH_FAILURE_LIMIT: String(LIMIT),
    });
    plain = await createTestApp(tdb.db);
    token = signUserToken(t.ctx.secrets.jwtSecret, 'u-cors');
  });
  afterAll(async () => {
    await t?.close();
    await plain?.close();
    await tdb?.drop();
  });

  const preflight = (app: TestApp, url: string, origin = APP, remoteAddress = '10.1.0.1') =>
    app.app.inject({
      method: 'OPTIONS',
      url,
      remoteAddress,
      headers: {
        origin,
        'access-control-request-method': 'PUT',
        'access-control-request-headers': 'authorization, content-type',
      },
    });

  it('answers a preflight of a listed origin for the inbox and preferences routes', async () => {
    for (const url of ['/v1/me/preferences', '/v1/users/u-cors/inbox', '/v1/users/u-cors/inbox/read']) {
      const res = await preflight(t, url);
      expect(res.statusCode).toBe(204);
      expect(res.headers['access-control-allow-origin']).toBe(APP);
      expect(res.headers['access-control-allow-methods']).toContain('PUT');
      expect(res.headers['access-control-allow-headers']).toContain('authorization');
      expect(res.headers['access-control-allow-credentials']).toBeUndefined();
      expect(res.headers.vary).toContain('Origin');
    }
  });

  it('lets the page read the answer, a refusal included, with the user token', async () => {
    const ok = await t.app.inject({
      method: 'GET',
      url: '/v1/me/preferences',
      headers: { origin: 'http://localhost:5173', authorization: `Bearer ${token}` },
    });
    expect(ok.statusCode).toBe(200);
    expect(ok.headers['access-control-allow-origin']).toBe('http://localhost:5173');
    const refused = await t.app.inject({
      method: 'GET',
      url: '/v1/users/u-cors/inbox',
      headers: { origin: APP, authorization: 'Bearer not-a-token' },
    });
    expect(refused.statusCode).toBe(401);
    expect(refused.headers['access-control-allow-origin']).toBe(APP);
  });

  it('gives nothing to other origins, to admin routes, or without the setting', async () => {
    const other = await preflight(t, '/v1/me/preferences', 'https://evil.example.net');
    expect(other.statusCode).toBe(404);
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
    const admin = await preflight(t, '/v1/templates');
    expect(admin.statusCode).toBe(404);
    expect(admin.headers['access-control-allow-origin']).toBeUndefined();
    const adminGet = await t.app.inject({
      method: 'GET',
      url: '/v1/templates',
      headers: { ...auth, origin: APP },
    });
    expect(adminGet.statusCode).toBe(200);
    expect(adminGet.headers['access-control-allow-origin']).toBeUndefined();
    const off = await preflight(plain, '/v1/me/preferences');
    expect(off.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('does not count preflights (they carry no token) as failed authentication', async () => {
    for (let i = 0; i < LIMIT * 3; i++)
      expect((await preflight(t, '/v1/me/preferences', APP, '10.1.0.9')).statusCode).toBe(204);
    const after = await t.app.inject({
      method: 'GET',
      url: '/v1/me/preferences',
      remoteAddress: '10.1.0.9',
      headers: { origin: APP, authorization: `Bearer ${token}` },
    });
    expect(after.statusCode).toBe(200);
  });

  it('refuses an origin written with a path or without a scheme at boot', () => {
    expect(() => loadConfig({ HERALD_CORS_ORIGINS: 'https://app.example.com/' })).toThrow(/not an origin/);
    expect(() => loadConfig({ HERALD_CORS_ORIGINS: 'app.example.com' })).toThrow(/not an origin/);
    expect(loadConfig({ HERALD_CORS_ORIGINS: '*' }).HERALD_CORS_ORIGINS).toEqual(['*']);
  });
});
