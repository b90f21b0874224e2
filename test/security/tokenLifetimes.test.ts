import { randomUUID } from 'node:crypto';
import { signUserToken } from '../../src/auth/userToken';
import { topologyNames } from '../../src/broker/topologyNames';
import { DEMO_PAGE_CSP } from '../../src/gateway/demoPage';
import { redactUrl } from '../../src/http/redactUrl';
import { describeWith } from '../support/services';
import { ADMIN_TOKEN } from '../support/testApp';
import { createTestPostgres, type TestDatabase } from '../support/testDatabase';
import { signClaims } from '../gateway/support/imJobs';
import { JWT_SECRET, startImServer, type ImTestServer } from '../gateway/support/imTestServer';
import { connect, connectRefused, type TestClient } from '../gateway/support/wsClient';

const now = () => Math.floor(Date.now() / 1000);
const MAX_SOCKETS = 3;

describeWith(['postgres'], 'token lifetimes, sockets per user, and what the log keeps of a token', () => {
  let tdb: TestDatabase;
  let s: ImTestServer;
  const clients: TestClient[] = [];
  const open = async (token: string) => {
    const c = await connect(s.wsBase, { token });
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    tdb = await createTestPostgres();
    s = await startImServer({
      db: tdb.db,
      names: topologyNames(`t${randomUUID().slice(0, 8)}.`),
      env: {
        HERALD_AUTH_FAILURE_LIMIT: '0',
        HERALD_WS_MAX_SOCKETS_PER_USER: String(MAX_SOCKETS),
        HERALD_JWT_MAX_TTL: '1d',
      },
    });
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await s?.close();
    await tdb?.drop();
  });

  it('closes a socket with 4001 once its token expires, not before', async () => {
    const exp = now() + 2;
    const c = await open(signClaims(JWT_SECRET, { sub: 'u-exp', exp }));
    const closed = await c.closed;
    expect(closed).toEqual({ code: 4001, reason: 'token expired: reconnect with a fresh token' });
    expect(Date.now()).toBeGreaterThanOrEqual(exp * 1000);
    expect(s.im.gateway?.connectionCount('u-exp')).toBe(0);
  });

  it('keeps at most HERALD_WS_MAX_SOCKETS_PER_USER sockets per user, closing the oldest with 4010', async () => {
    const user = `u-many-${randomUUID()}`;
    const held: TestClient[] = [];
    for (let i = 0; i < MAX_SOCKETS; i++) held.push(await open(signUserToken(JWT_SECRET, user)));
    const newest = await open(signUserToken(JWT_SECRET, user));
    expect(await held[0]?.closed).toEqual({
      code: 4010,
      reason: 'too many sockets for this user: the oldest is closed',
    });
    expect(s.im.gateway?.connectionCount(user)).toBe(MAX_SOCKETS);
    expect(newest.ws.readyState).toBe(newest.ws.OPEN);
    expect(held[1]?.ws.readyState).toBe(newest.ws.OPEN);
    // Another user's sockets are not counted against this one.
    await open(signUserToken(JWT_SECRET, `${user}-other`));
    expect(s.im.gateway?.connectionCount(user)).toBe(MAX_SOCKETS);
  });

  it.each([
    ['a future nbf', { sub: 'u-1', exp: now() + 600, nbf: now() + 300 }, 'token_not_yet_valid'],
    [
      'a lifetime over HERALD_JWT_MAX_TTL',
      { sub: 'u-1', exp: now() + 2 * 86_400 },
      'token_lifetime_too_long',
    ],
    [
      'a lifetime over the maximum counted from iat',
      { sub: 'u-1', iat: now() - 86_000, exp: now() + 3600 },
      'token_lifetime_too_long',
    ],
    ['a sub over 128 characters', { sub: 'u'.repeat(129), exp: now() + 60 }, 'token_invalid_claims'],
    ['a sub with a control character', { sub: 'u-\u0007', exp: now() + 60 }, 'token_invalid_claims'],
  ])('refuses a token with %s (%s)', async (_label, claims, code) => {
    const res = await connectRefused(s.wsBase, { token: signClaims(JWT_SECRET, claims) });
    expect([res.status, res.body.code]).toEqual([401, code]);
  });

  it('takes a route user id of 1..128 characters and refuses a longer one or one with a control character', async () => {
    const get = (id: string) =>
      s.app.inject({
        method: 'GET',
        url: `/v1/users/${id}/inbox`,
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      });
    expect((await get('u'.repeat(128))).statusCode).toBe(200);
    for (const id of ['u'.repeat(129), 'a%07b']) {
      const res = await get(id);
      expect([res.statusCode, res.json().code]).toEqual([400, 'invalid_request']);
    }
  });

  it('redacts a token from a logged URL by its decoded parameter name', () => {
    const jwt = signUserToken(JWT_SECRET, 'u-1');
    for (const url of [`/v1/ws?token=${jwt}`, `/v1/ws?%74oken=${jwt}`, `/v1/ws?since=3&%54OKEN=${jwt}`]) {
      const out = redactUrl(url);
      expect(out).not.toContain(jwt);
      expect(out).toContain('[redacted]');
    }
    expect(redactUrl('/v1/ws?since=3&tokenish=x')).toBe('/v1/ws?since=3&tokenish=x');
  });

  it('authenticates ?%74oken= (the query parser decodes it) and its refusal never echoes the token', async () => {
    const bad = `${signUserToken('another-secret-0123456789abcdef0123', 'u-1')}`;
    const res = await s.app.inject({ method: 'GET', url: `/v1/ws?%74oken=${bad}` });
    expect(res.statusCode).toBe(401);
    expect(res.body).not.toContain(bad);
  });

  it('serves the demo page with a CSP that allows only its own scripts and forbids framing', async () => {
    const res = await s.app.inject({ method: 'GET', url: '/demo/inbox' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-security-policy']).toBe(DEMO_PAGE_CSP);
    expect(DEMO_PAGE_CSP).toMatch(/frame-ancestors 'none'/);
    expect(DEMO_PAGE_CSP).toMatch(/script-src 'self'(;|$)/);
    expect(DEMO_PAGE_CSP).not.toContain('unsafe-inline');
  });
});
