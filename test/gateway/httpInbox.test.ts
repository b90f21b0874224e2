import { randomUUID } from 'node:crypto';
import { signUserToken } from '../../src/auth/userToken';
import { createImSender } from '../../src/senders/im/imSender';
import { describeWith } from '../support/services';
import { ADMIN_TOKEN, useTestApp } from '../support/testApp';
import { createTestPostgres } from '../support/testDatabase';
import { imJob } from './support/imJobs';
import { JWT_SECRET, silentLog } from './support/imTestServer';

const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
const admin = bearer(ADMIN_TOKEN);

describeWith(['postgres'], 'HTTP inbox', () => {
  const t = useTestApp(createTestPostgres, { HERALD_JWT_SECRET: JWT_SECRET });
  const user = `u-${randomUUID()}`;
  const own = bearer(signUserToken(JWT_SECRET, user));
  const other = bearer(signUserToken(JWT_SECRET, `someone-else-${randomUUID()}`));
  let ids: string[] = [];

  beforeAll(async () => {
    const sender = createImSender({ inbox: t.ctx.services.inbox, bus: t.ctx.services.imBus, log: silentLog });
    const outcomes = await sender.sendMany(Array.from({ length: 5 }, (_, i) => imJob(user, `n${i + 1}`)));
    ids = outcomes.map((o) => (o.kind === 'sent' ? (o.providerId ?? '') : ''));
  });

  const get = (url: string, headers: Record<string, string>) => t.app.inject({ method: 'GET', url, headers });
  const read = (payload: unknown, headers: Record<string, string>, u = user) =>
    t.app.inject({ method: 'POST', url: `/v1/users/${u}/inbox/read`, headers, payload: payload as object });

  it('lists newest first with a cursor, for the admin token', async () => {
    const p1 = await get(`/v1/users/${user}/inbox?limit=3`, admin);
    expect(p1.statusCode).toBe(200);
    const body1 = p1.json();
    expect(body1.items.map((i: { title: string }) => i.title)).toEqual(['n5', 'n4', 'n3']);
    expect(body1).toMatchObject({ unread: 5, nextCursor: expect.any(String) });
    const p2 = await get(`/v1/users/${user}/inbox?limit=3&cursor=${body1.nextCursor}`, admin);
    expect(p2.json().items.map((i: { seq: number }) => i.seq)).toEqual([2, 1]);
    expect(p2.json().nextCursor).toBeNull();
    const since = await get(`/v1/users/${user}/inbox?since=3`, admin);
    expect(since.json().items.map((i: { seq: number }) => i.seq)).toEqual([4, 5]);
  });

  it('serves the user’s own token and refuses another user’s with 403', async () => {
    expect((await get(`/v1/users/${user}/inbox`, own)).statusCode).toBe(200);
    expect((await get(`/v1/users/${user}/inbox/unread-count`, own)).json()).toEqual({
      unread: 5,
      version: 1,
    });
    for (const res of [
      await get(`/v1/users/${user}/inbox`, other),
      await get(`/v1/users/${user}/inbox/unread-count`, other),
      await read({ all: true }, other),
    ]) {
      expect(res.statusCode).toBe(403);
      expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(res.json().code).toBe('forbidden');
    }
    expect((await get(`/v1/users/${user}/inbox/unread-count`, admin)).json()).toEqual({
      unread: 5,
      version: 1,
    });
  });

  it('refuses missing and invalid tokens with 401, before looking at the input', async () => {
    const none = await get(`/v1/users/${user}/inbox`, {});
    expect(none.statusCode).toBe(401);
    expect(none.json().code).toBe('token_missing');
    expect((await get(`/v1/users/${user}/inbox`, bearer(user))).json().code).toBe('token_malformed');
    const unauthBadBody = await read({ nonsense: 1 }, {});
    expect(unauthBadBody.statusCode).toBe(401);
  });

  it('marks read by ids, up to a seq, or all, with the user’s own token', async () => {
    expect((await read({ ids: [ids[0]] }, own)).json()).toMatchObject({ updated: 1, counts: { unread: 4 } });
    expect((await read({ upToSeq: 3 }, own)).json()).toMatchObject({ updated: 2, counts: { unread: 2 } });
    const unread = await get(`/v1/users/${user}/inbox?unread=true`, own);
    expect(unread.json().items.map((i: { seq: number }) => i.seq)).toEqual([5, 4]);
    expect((await read({ all: true }, admin)).json()).toMatchObject({ updated: 2, counts: { unread: 0 } });
  });

  it('rejects bad input with 400', async () => {
    expect((await read({}, own)).statusCode).toBe(400);
    expect((await read({ ids: ['x'] }, own)).statusCode).toBe(400);
    expect((await read({ ids: [ids[0]], all: true }, own)).statusCode).toBe(400);
    const cursor = await get(`/v1/users/${user}/inbox?cursor=bogus`, own);
    expect(cursor.statusCode).toBe(400);
    expect(cursor.json().code).toBe('invalid_cursor');
  });

  it('documents the inbox routes in OpenAPI', async () => {
    const doc = (await get('/docs/json', {})).json();
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/v1/users/{userId}/inbox',
        '/v1/users/{userId}/inbox/unread-count',
        '/v1/users/{userId}/inbox/read',
      ]),
    );
  });
});
