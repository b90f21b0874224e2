import { setTimeout as sleep } from 'node:timers/promises';
import { signUserToken } from '../../src/auth/userToken';
import { ADMIN_TOKEN, auth, createTestApp, type TestApp } from '../support/testApp';
import { createTestPglite, type TestDatabase } from '../support/testDatabase';

const LIMIT = 5;
const WINDOW_MS = 1500;
const SECOND_ADMIN = 'second-admin-token-0123456789abcdef';

describe('failed authentication is rate-limited per IP', () => {
  let tdb: TestDatabase;
  let t: TestApp;
  let ipSeq = 0;
  /** Each test gets addresses of its own, so counts do not carry over. */
  const freshIp = () => `10.0.0.${++ipSeq}`;

  beforeAll(async () => {
    tdb = await createTestPglite();
    t = await createTestApp(tdb.db, {
      HERALD_ADMIN_TOKENS: `${ADMIN_TOKEN},${SECOND_ADMIN}`,
      HERALD_AUTH_FAILURE_LIMIT: String(LIMIT),
      HERALD_AUTH_FAILURE_WINDOW_MS: String(WINDOW_MS),
    });
  });
  afterAll(async () => {
    await t?.close();
    await tdb?.drop();
  });

  const get = (ip: string, headers: Record<string, string>, url = '/v1/templates') =>
    t.app.inject({ method: 'GET', url, headers, remoteAddress: ip });
  const wrong = { authorization: 'Bearer not-the-admin-token-0123456789' };
  const statuses = async (ip: string, n: number, headers = wrong) => {
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push((await get(ip, headers)).statusCode);
    return out;
  };

  it('answers 429 problem+json once an IP has failed LIMIT times, with Retry-After', async () => {
    const ip = freshIp();
    expect(await statuses(ip, LIMIT)).toEqual(Array(LIMIT).fill(401));
    const res = await get(ip, {});
    expect(res.statusCode).toBe(429);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json()).toMatchObject({ status: 429, code: 'too_many_failed_auth' });
    const retryAfter = Number(res.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(Math.ceil(WINDOW_MS / 1000));
    // Another address is not affected.
    expect((await get(freshIp(), wrong)).statusCode).toBe(401);
  });

  it('counts 401s of unknown /v1 paths and of the inbox routes too', async () => {
    const ip = freshIp();
    for (let i = 0; i < LIMIT; i++) {
      const url = i % 2 ? '/v1/no-such-route' : '/v1/users/u-1/inbox';
      expect((await get(ip, wrong, url)).statusCode).toBe(401);
    }
    expect((await get(ip, wrong, '/v1/users/u-1/inbox')).statusCode).toBe(429);
    expect((await get(ip, wrong, '/v1/no-such-route')).statusCode).toBe(429);
    // Routes outside /v1 are not gated.
    expect((await get(ip, {}, '/health')).statusCode).toBe(200);
  });

  it('does not count successful requests', async () => {
    const ip = freshIp();
    expect(await statuses(ip, 3 * LIMIT, auth)).toEqual(Array(3 * LIMIT).fill(200));
    expect(await statuses(ip, LIMIT)).toEqual(Array(LIMIT).fill(401));
    expect((await get(ip, wrong)).statusCode).toBe(429);
  });

  it('never locks out a request that carries a valid token, even one never used from the blocked IP', async () => {
    const ip = freshIp();
    await statuses(ip, LIMIT);
    expect((await get(ip, wrong)).statusCode).toBe(429);
    expect((await get(ip, { authorization: `Bearer ${SECOND_ADMIN}` })).statusCode).toBe(200);
    // A user token on its own inbox passes too.
    const userToken = signUserToken(t.ctx.secrets.jwtSecret, 'u-7');
    expect((await get(ip, { authorization: `Bearer ${userToken}` }, '/v1/users/u-7/inbox')).statusCode).toBe(
      200,
    );
  });

  it('counts per client behind a trusted proxy (HERALD_TRUST_PROXY), and per proxy without it', async () => {
    const trusting = await createTestApp(tdb.db, {
      HERALD_AUTH_FAILURE_LIMIT: String(LIMIT),
      HERALD_AUTH_FAILURE_WINDOW_MS: '60000',
      HERALD_TRUST_PROXY: '1',
    });
    const viaProxy = (app: TestApp, client: string) =>
      app.app.inject({
        method: 'GET',
        url: '/v1/templates',
        headers: { ...wrong, 'x-forwarded-for': client },
        remoteAddress: '10.9.9.9',
      });
    try {
      for (let i = 0; i < LIMIT; i++) expect((await viaProxy(trusting, '203.0.113.1')).statusCode).toBe(401);
      expect((await viaProxy(trusting, '203.0.113.1')).statusCode).toBe(429);
      expect((await viaProxy(trusting, '203.0.113.2')).statusCode).toBe(401);
      // Not trusted: the proxy's address is the client, so the second client shares the first one's count.
      for (let i = 0; i < LIMIT; i++) await viaProxy(t, `198.51.100.${i}`);
      expect((await viaProxy(t, '198.51.100.99')).statusCode).toBe(429);
    } finally {
      await trusting.close();
    }
  });

  it('lets a token that already worked from the IP through while it is blocked', async () => {
    const ip = freshIp();
    expect((await get(ip, auth)).statusCode).toBe(200);
    await statuses(ip, LIMIT);
    expect((await get(ip, wrong)).statusCode).toBe(429);
    expect((await get(ip, auth)).statusCode).toBe(200);
    expect((await get(ip, auth, '/v1/no-such-route')).statusCode).toBe(404);
  });

  it('resets once the window has passed', async () => {
    const ip = freshIp();
    await statuses(ip, LIMIT);
    expect((await get(ip, wrong)).statusCode).toBe(429);
    await sleep(WINDOW_MS + 100);
    // A fresh window: LIMIT more failures are answered 401 before the block comes back.
    expect(await statuses(ip, LIMIT)).toEqual(Array(LIMIT).fill(401));
    expect((await get(ip, wrong)).statusCode).toBe(429);
  });

  it('is off with HERALD_AUTH_FAILURE_LIMIT=0', async () => {
    const off = await createTestApp(tdb.db, { HERALD_AUTH_FAILURE_LIMIT: '0' });
    try {
      for (let i = 0; i < 3 * LIMIT; i++) {
        const res = await off.app.inject({ method: 'GET', url: '/v1/templates', headers: wrong });
        expect(res.statusCode).toBe(401);
      }
    } finally {
      await off.close();
    }
  });
});
