import { signUserToken } from '../../src/auth/userToken';
import { createTestApp, type TestApp } from '../support/testApp';
import { createTestPglite, type TestDatabase } from '../support/testDatabase';

interface Refusal {
  status: number;
  code: string;
  detail: string;
  errors: Array<{ path: string; reason: string }>;
}

describe('a 401 on an admin route says which credential was wrong', () => {
  let tdb: TestDatabase;
  let configured: TestApp;
  let embedded: TestApp;

  beforeAll(async () => {
    tdb = await createTestPglite();
    configured = await createTestApp(tdb.db);
    embedded = await createTestApp(tdb.db, { HERALD_ADMIN_TOKENS: '' });
  });
  afterAll(async () => {
    await configured?.close();
    await embedded?.close();
    await tdb?.drop();
  });

  const refusal = async (t: TestApp, headers: Record<string, string>, url = '/v1/templates') => {
    const res = await t.app.inject({ method: 'GET', url, headers });
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer');
    return res.json<Refusal>();
  };

  it.each(['/v1/templates', '/v1/no-such-route'])(
    'tells a missing token from a wrong one and a user token (%s)',
    async (url) => {
      const missing = await refusal(configured, {}, url);
      expect(missing).toMatchObject({ code: 'unauthorized', errors: [{ reason: 'missing' }] });
      expect(missing.detail).toMatch(
        /^no bearer token: .*Authorization: Bearer <admin token>.*HERALD_ADMIN_TOKENS/,
      );

      const wrong = await refusal(configured, { authorization: 'Bearer not-a-known-token-0123456789' }, url);
      expect(wrong).toMatchObject({ code: 'unauthorized', errors: [{ reason: 'unrecognised' }] });
      expect(wrong.detail).toMatch(/^the bearer token is not an admin token/);

      const user = signUserToken(configured.ctx.secrets.jwtSecret, 'u-1');
      const asUser = await refusal(configured, { authorization: `Bearer ${user}` }, url);
      expect(asUser).toMatchObject({ code: 'unauthorized', errors: [{ reason: 'user_token' }] });
      expect(asUser.detail).toMatch(/^a user token opens the WebSocket and its own inbox only/);
    },
  );

  it('says where the generated admin token is kept in embedded mode, without the absolute path', async () => {
    const missing = await refusal(embedded, {});
    expect(missing.detail).toContain('$HERALD_HOME/admin-token');
    expect(missing.detail).not.toContain(embedded.config.homeDir);
    const res = await embedded.app.inject({
      method: 'GET',
      url: '/v1/templates',
      headers: { authorization: `Bearer ${embedded.ctx.secrets.adminTokens[0] ?? ''}` },
    });
    expect(res.statusCode).toBe(200);
  });
});
