import { createHmac, randomUUID } from 'node:crypto';
import { createSigner } from 'fast-jwt';
import { signUserToken } from '../../src/auth/userToken';
import { topologyNames } from '../../src/broker/topologyNames';
import { ADMIN_TOKEN } from '../support/testApp';
import { describeWith } from '../support/services';
import { createTestPostgres, type TestDatabase } from '../support/testDatabase';
import { eventually, imJob, signClaims, sleep } from '../gateway/support/imJobs';
import { JWT_SECRET, startImServer, type ImTestServer } from '../gateway/support/imTestServer';
import { connect, connectRefused, type TestClient } from '../gateway/support/wsClient';

const now = () => Math.floor(Date.now() / 1000);
const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
/** Signs by hand, for claims fast-jwt's signer refuses to write. */
function hs256(claims: object): string {
  const unsigned = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(claims)}`;
  return `${unsigned}.${createHmac('sha256', JWT_SECRET).update(unsigned).digest('base64url')}`;
}

// test/gateway/gateway.test.ts already refuses: none, empty, malformed, bare id, admin token, expired,
// another secret, no sub, no exp, alg none. These are the kinds it does not cover.
const moreBadTokens: Array<[string, () => { token: string }]> = [
  [
    'HS512 with the right secret (only HS256 is accepted)',
    () => ({
      token: createSigner({ key: JWT_SECRET, algorithm: 'HS512', expiresIn: 60_000 })({ sub: 'u-1' }),
    }),
  ],
  ['a numeric sub', () => ({ token: signClaims(JWT_SECRET, { sub: 17, exp: now() + 60 }) })],
  ['an empty sub', () => ({ token: signClaims(JWT_SECRET, { sub: '', exp: now() + 60 }) })],
  ['a string exp', () => ({ token: hs256({ sub: 'u-1', exp: String(now() + 60) }) })],
  ['a sub that is an object', () => ({ token: hs256({ sub: { id: 'u-1' }, exp: now() + 60 }) })],
  [
    'a token not valid yet (nbf)',
    () => ({ token: signClaims(JWT_SECRET, { sub: 'u-1', exp: now() + 600, nbf: now() + 300 }) }),
  ],
  [
    'a token signed with the admin token as the secret',
    () => ({
      token: createSigner({ key: ADMIN_TOKEN, algorithm: 'HS256', expiresIn: 60_000 })({ sub: 'u-1' }),
    }),
  ],
  [
    'a token whose signature was cut off',
    () => ({ token: signUserToken(JWT_SECRET, 'u-1').replace(/\.[^.]+$/, '.') }),
  ],
];

describeWith(['postgres'], 'user tokens: refused kinds, and no reach into another user’s inbox', () => {
  let tdb: TestDatabase;
  let s: ImTestServer;
  const clients: TestClient[] = [];
  const open = async (userId: string) => {
    const c = await connect(s.wsBase, { token: signUserToken(JWT_SECRET, userId) });
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    tdb = await createTestPostgres();
    s = await startImServer({
      db: tdb.db,
      names: topologyNames(`t${randomUUID().slice(0, 8)}.`),
      env: { HERALD_AUTH_FAILURE_LIMIT: '0' },
    });
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await s?.close();
    await tdb?.drop();
  });

  describe('the socket refuses with 401 problem+json', () => {
    it.each(moreBadTokens)('%s, in the query and in the header', async (_label, make) => {
      const { token } = make();
      for (const res of [
        await connectRefused(s.wsBase, { token }),
        await connectRefused(s.wsBase, {}, bearer(token)),
      ]) {
        expect(res.status).toBe(401);
        expect(res.contentType).toMatch(/application\/problem\+json/);
        expect(res.body.code).toMatch(/^token_/);
      }
    });

    it('the admin token in the Authorization header', async () => {
      const res = await connectRefused(s.wsBase, {}, bearer(ADMIN_TOKEN));
      expect([res.status, res.body.code]).toEqual([401, 'token_malformed']);
    });

    it('a bad query token even when the header carries a good one (the query wins, no fallback)', async () => {
      const res = await connectRefused(s.wsBase, { token: 'u-1' }, bearer(signUserToken(JWT_SECRET, 'u-1')));
      expect(res.status).toBe(401);
    });
  });

  describe('another user’s inbox', () => {
    let alice: string;
    let aliceIds: string[];
    const unread = async (userId: string) => (await s.ctx.services.inbox.counts(userId)).unread;

    beforeEach(async () => {
      alice = `alice-${randomUUID()}`;
      const outcomes = await s.imSender.sendMany([imJob(alice, 'a1'), imJob(alice, 'a2')]);
      aliceIds = outcomes.map((o) => (o.kind === 'sent' ? (o.providerId ?? '') : ''));
      expect(aliceIds.every((id) => id.length === 36)).toBe(true);
    });

    it('over HTTP: mallory’s token marks nothing of alice’s read, by path or by ids on her own path', async () => {
      const mallory = `mallory-${randomUUID()}`;
      const token = bearer(signUserToken(JWT_SECRET, mallory));
      const read = (userId: string, payload: object) =>
        s.app.inject({ method: 'POST', url: `/v1/users/${userId}/inbox/read`, headers: token, payload });

      for (const payload of [{ all: true }, { ids: aliceIds }, { upToSeq: 99 }]) {
        expect((await read(alice, payload)).statusCode).toBe(403);
      }
      // Her own path with alice's item ids: the ids are scoped to the token's user.
      expect((await read(mallory, { ids: aliceIds })).json()).toMatchObject({
        updated: 0,
        counts: { unread: 0 },
      });
      // A path that decodes to alice's id, or differs only in case or encoding, is still not hers.
      for (const url of [
        `/v1/users/${encodeURIComponent(alice)}/inbox`,
        `/v1/users/${alice.toUpperCase()}/inbox`,
        `/v1/users/${mallory}%2F..%2F${alice}/inbox`,
      ]) {
        const res = await s.app.inject({ method: 'GET', url, headers: token });
        expect([url, res.statusCode]).toEqual([url, 403]);
      }
      expect(await unread(alice)).toBe(2);
    });

    it('over the socket: mallory sees none of alice’s items and her read frames touch none of them', async () => {
      const mallory = `mallory-${randomUUID()}`;
      const m = await open(mallory);
      const hello = await m.waitFor('hello');
      expect(hello).toMatchObject({ userId: mallory, unread: 0, items: [] });

      m.send({ type: 'read', ids: aliceIds });
      await m.waitFor('changed', (f) => f.unread === 0);
      m.send({ type: 'read', all: true });
      m.send({ type: 'read', upToSeq: 99 });
      await s.imSender.send(imJob(alice, 'a3'));
      await sleep(200);
      expect(m.messages()).toEqual([]);
      await eventually(async () => (await unread(alice)) === 3);
      // Alice's own socket still sees all three unread.
      const a = await open(alice);
      expect((await a.waitFor('hello')).unread).toBe(3);
    });
  });
});
