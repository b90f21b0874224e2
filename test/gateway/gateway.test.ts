import { randomUUID } from 'node:crypto';
import { signUserToken } from '../../src/auth/userToken';
import { describeWith } from '../support/services';
import { createTestPostgres, type TestDatabase } from '../support/testDatabase';
import { createBrokerFixture } from './support/brokerFixture';
import { imJob, signClaims, eventually, sleep } from './support/imJobs';
import { JWT_SECRET, startImServer, type ImTestServer } from './support/imTestServer';
import { connect, connectRefused, type TestClient } from './support/wsClient';

const token = (userId: string) => signUserToken(JWT_SECRET, userId);
const newUser = () => `u-${randomUUID()}`;

describeWith(['postgres', 'rabbitmq'], 'IM gateway: two instances on one broker and database', () => {
  const broker = createBrokerFixture();
  let tdb: TestDatabase;
  let s1: ImTestServer;
  let s2: ImTestServer;
  const clients: TestClient[] = [];
  const open = async (s: ImTestServer, userId: string, since?: number) => {
    const c = await connect(s.wsBase, { token: token(userId), since });
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    tdb = await createTestPostgres();
    s1 = await startImServer({ db: tdb.db, names: broker.names, broker: await broker.connect() });
    s2 = await startImServer({ db: tdb.db, names: broker.names, broker: await broker.connect() });
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await s1?.close();
    await s2?.close();
    await broker.cleanup();
    await tdb?.drop();
  });

  it('pushes an item to every socket of its user, on both instances, and to no other user', async () => {
    const [alice, bob] = [newUser(), newUser()];
    const a1 = await open(s1, alice);
    const a2 = await open(s1, alice);
    const a3 = await open(s2, alice);
    const b1 = await open(s2, bob);
    const [outcome] = await s1.imSender.sendMany([
      imJob(alice, 'Order 981 shipped', { url: '/orders/981', category: 'orders', data: { orderNo: '981' } }),
    ]);
    expect(outcome).toMatchObject({ kind: 'sent', providerId: expect.any(String) });
    for (const c of [a1, a2, a3]) {
      const m = await c.waitFor('message');
      expect(m).toEqual({
        type: 'message',
        unread: 1,
        counts: { version: 1, unread: 1, unseen: 1, tabs: {} },
        item: {
          id: outcome?.kind === 'sent' ? outcome.providerId : '',
          seq: 1,
          title: 'Order 981 shipped',
          body: 'Order 981 shipped body',
          url: '/orders/981',
          category: 'orders',
          data: { orderNo: '981' },
          tags: [],
          severity: 'normal',
          actions: null,
          createdAt: expect.any(String),
          seenAt: null,
          readAt: null,
          archivedAt: null,
          snoozedUntil: null,
          expiresAt: null,
          actionedAt: null,
          action: null,
        },
      });
    }
    await s2.imSender.send(imJob(bob, 'for bob'));
    await b1.waitFor('message', (m) => m.item.title === 'for bob');
    await sleep(200);
    expect(b1.messages().map((m) => m.item.title)).toEqual(['for bob']);
    for (const c of [a1, a2, a3])
      expect(c.messages().map((m) => m.item.title)).toEqual(['Order 981 shipped']);
  });

  it('gives a user who was offline the unread items in hello', async () => {
    const carol = newUser();
    await s1.imSender.sendMany([imJob(carol, 'one'), imJob(carol, 'two'), imJob(carol, 'three')]);
    const first = await s1.imSender.send(imJob(carol, 'four'));
    const c = await open(s2, carol);
    const hello = await c.waitFor('hello');
    expect(hello).toMatchObject({ type: 'hello', userId: carol, unread: 4, lastSeq: 4, more: false });
    expect(hello.items.map((i) => [i.seq, i.title])).toEqual([
      [1, 'one'],
      [2, 'two'],
      [3, 'three'],
      [4, 'four'],
    ]);
    expect(hello.items[3]?.id).toBe(first.kind === 'sent' ? first.providerId : undefined);
  });

  it('replays exactly the missed items, read or not, when a client resumes with since', async () => {
    const dave = newUser();
    const c1 = await open(s1, dave);
    await s1.imSender.sendMany([imJob(dave, 'a'), imJob(dave, 'b')]);
    await c1.waitFor('message', (m) => m.item.title === 'b');
    const lastSeen = Math.max(...c1.messages().map((m) => m.item.seq));
    c1.close();
    await eventually(() => s1.im.gateway?.connectionCount(dave) === 0);

    await s2.imSender.sendMany([imJob(dave, 'c'), imJob(dave, 'd'), imJob(dave, 'e')]);
    await s1.ctx.services.inbox.change(dave, { kind: 'read' }, { upToSeq: 3 });
    const c2 = await open(s2, dave, lastSeen);
    const hello = await c2.waitFor('hello');
    expect(hello.items.map((i) => [i.seq, i.title, i.readAt === null])).toEqual([
      [3, 'c', false],
      [4, 'd', true],
      [5, 'e', true],
    ]);
    expect(hello).toMatchObject({ lastSeq: 5, unread: 2, more: false });

    await s1.imSender.send(imJob(dave, 'f'));
    const live = await c2.waitFor('message');
    expect(live.item).toMatchObject({ seq: 6, title: 'f' });
    expect(c2.messages()).toHaveLength(1);
  });

  it('shows the same unread count in every tab after a read in one of them or over HTTP', async () => {
    const erin = newUser();
    const tab1 = await open(s1, erin);
    const tab2 = await open(s1, erin);
    const tab3 = await open(s2, erin);
    const outcomes = await s2.imSender.sendMany([imJob(erin, 'x'), imJob(erin, 'y'), imJob(erin, 'z')]);
    await tab3.waitFor('message', (m) => m.item.title === 'z');
    const firstId = outcomes[0]?.kind === 'sent' ? outcomes[0].providerId : '';

    tab1.send({ type: 'read', ids: [firstId] });
    for (const t of [tab1, tab2, tab3]) await t.waitFor('changed', (f) => f.unread === 2);

    tab3.send({ type: 'read', upToSeq: 2 });
    for (const t of [tab1, tab2, tab3]) await t.waitFor('changed', (f) => f.unread === 1);

    const res = await s2.app.inject({
      method: 'POST',
      url: `/v1/users/${erin}/inbox/read`,
      headers: { authorization: `Bearer ${token(erin)}` },
      payload: { all: true },
    });
    expect(res.json()).toMatchObject({ updated: 1, counts: { unread: 0, unseen: 0 } });
    for (const t of [tab1, tab2, tab3]) await t.waitFor('changed', (f) => f.unread === 0);
  });

  it('marks a delivery delivered once a socket got it, and read when the user reads it', async () => {
    const [online, offline] = [newUser(), newUser()];
    const messageId = `msg-${randomUUID()}`;
    const [d1, d2] = [randomUUID(), randomUUID()];
    await tdb.db.sql.query(`INSERT INTO "Message" (id, status) VALUES ($1, 'dispatched')`, [messageId]);
    await tdb.db.sql.query(
      `INSERT INTO "Delivery" (id, "messageId", channel, "recipientIndex", "recipientKey", "userId", "templateCode", status)
       VALUES ($1, $3, 'im', 0, 'index:0', $4, 't', 'sent'), ($2, $3, 'im', 1, 'index:1', $5, 't', 'sent')`,
      [d1, d2, messageId, online, offline],
    );
    const status = async (id: string) =>
      (await tdb.db.sql.query<{ s: string }>(`SELECT status::text AS s FROM "Delivery" WHERE id = $1`, [id]))
        .rows[0]?.s;

    const c = await open(s1, online);
    await s2.imSender.sendMany([
      imJob(online, 'hi', { deliveryId: d1, messageId }),
      imJob(offline, 'hi', { deliveryId: d2, messageId }),
    ]);
    const m = await c.waitFor('message');
    await eventually(async () => (await status(d1)) === 'delivered');
    expect(await status(d2)).toBe('sent');

    const late = await open(s2, offline);
    await eventually(async () => (await status(d2)) === 'delivered');
    late.send({ type: 'read', all: true });
    c.send({ type: 'read', ids: [m.item.id] });
    await eventually(async () => (await status(d1)) === 'read' && (await status(d2)) === 'read');
  });

  it('answers bad frames with an error frame and keeps the connection', async () => {
    const c = await open(s1, newUser());
    c.send('not json');
    await c.waitFor('error', (e) => e.code === 'invalid_json');
    c.send({ type: 'shout' });
    await c.waitFor('error', (e) => e.code === 'invalid_frame');
    c.send({ type: 'read' });
    await c.waitFor('error', (e) => e.code === 'invalid_frame' && /exactly one/.test(e.message));
    c.send({ type: 'read', ids: ['not-a-uuid'] });
    await c.waitFor('error', (e) => e.code === 'invalid_frame' && e.message.startsWith('ids.0'));
    c.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    await c.waitFor('error', (e) => e.code === 'binary_frame');
    c.send({ type: 'ping' });
    await c.waitFor('pong');
    expect(c.ws.readyState).toBe(c.ws.OPEN);
  });

  it('serves the demo page without a token', async () => {
    const res = await s1.app.inject({ method: 'GET', url: '/demo/inbox' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/text\/html/);
    expect(res.body).toContain('<herald-inbox');
  });

  describe('refuses the upgrade with 401 problem+json', () => {
    const now = () => Math.floor(Date.now() / 1000);
    const alg = (h: object) => Buffer.from(JSON.stringify(h)).toString('base64url');
    it.each<[string, () => Record<string, string | undefined>, string]>([
      ['no token', () => ({}), 'token_missing'],
      ['an empty token', () => ({ token: '' }), 'token_missing'],
      ['a malformed token', () => ({ token: 'not.a.jwt' }), 'token_malformed'],
      ['a bare user id', () => ({ token: 'u-17' }), 'token_malformed'],
      ['the admin token', () => ({ token: 'test-admin-token-0123456789abcdef' }), 'token_malformed'],
      [
        'an expired token',
        () => ({ token: signClaims(JWT_SECRET, { sub: 'u-17', exp: now() - 60 }) }),
        'token_expired',
      ],
      [
        'a token signed with another secret',
        () => ({ token: signUserToken('another-secret-0123456789abcdef-0123456789', 'u-17') }),
        'token_invalid_signature',
      ],
      [
        'a token without sub',
        () => ({ token: signClaims(JWT_SECRET, { exp: now() + 60 }) }),
        'token_invalid_claims',
      ],
      [
        'a token without exp',
        () => ({ token: signClaims(JWT_SECRET, { sub: 'u-17' }) }),
        'token_invalid_claims',
      ],
      [
        'an unsigned (alg none) token',
        () => ({ token: `${alg({ alg: 'none', typ: 'JWT' })}.${alg({ sub: 'u-17', exp: now() + 60 })}.` }),
        'token_',
      ],
    ])('%s', async (_label, query, code) => {
      const res = await connectRefused(s1.wsBase, query());
      expect(res.status).toBe(401);
      expect(res.contentType).toMatch(/application\/problem\+json/);
      expect(res.body.code?.startsWith(code)).toBe(true);
    });

    it('and takes a valid token from the Authorization header too', async () => {
      const c = await connect(s1.wsBase, {}, { authorization: `Bearer ${token('header-user')}` });
      clients.push(c);
      expect(await c.waitFor('hello')).toMatchObject({ userId: 'header-user' });
    });

    it('answers a bad since with 400', async () => {
      const res = await connectRefused(s1.wsBase, { token: token('u-1'), since: 'yesterday' });
      expect(res.status).toBe(400);
    });
  });
});
