import { signUserToken } from '../../src/auth/userToken';
import { inboxCommand } from '../../src/cli/inboxCommand';
import { loadConfig } from '../../src/config/loadConfig';
import { createPostgresDatabase } from '../../src/db/postgresDatabase';
import type { ServerFrame } from '../../src/gateway/protocol';
import { connect } from '../gateway/support/wsClient';
import { describeWith, TEST_AMQP_URL } from '../support/services';
import { ADMIN_TOKEN } from '../support/testApp';
import {
  createTestDeployment,
  eventually,
  JWT_SECRET,
  type TestDeployment,
  type TestHerald,
} from '../support/testHerald';

type Message = Extract<ServerFrame, { type: 'message' }>;

describeWith(['postgres', 'rabbitmq'], 'inbox states end to end: template fields, actions, snooze', () => {
  let dep: TestDeployment;
  let h: TestHerald;
  const admin = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' };
  const api = async (base: string, method: string, url: string, body?: unknown, headers = admin) => {
    const r = await fetch(`${base}${url}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: r.status, body: (await r.json().catch(() => null)) as Record<string, unknown> };
  };
  const send = async (id: string, userId: string) => {
    const r = await api(h.baseUrl, 'POST', '/v1/messages', {
      id,
      template: 'approval',
      to: [{ userId }],
      data: { orderNo: '981' },
    });
    expect(r.status).toBe(202);
  };

  beforeAll(async () => {
    dep = createTestDeployment();
    h = await dep.start();
    const tpl = await api(h.baseUrl, 'POST', '/v1/templates', {
      code: 'approval',
      name: 'Approval',
      category: 'orders',
      variables: { orderNo: 'string' },
      channels: {
        im: {
          title: 'Approve order {{ orderNo }}',
          body: 'Please approve',
          tags: ['order-{{ orderNo }}', 'eu'],
          severity: 'high',
          actions: {
            primary: { label: 'Approve', key: 'approve' },
            secondary: { label: 'Open', url: '/orders' },
          },
          expiresAfter: '7d',
        },
      },
    });
    expect(tpl.status).toBe(201);
    const tab = await api(h.baseUrl, 'PUT', '/v1/inbox/tabs/orders', { filter: { category: 'orders' } });
    expect(tab.status).toBe(200);
  });
  afterAll(() => dep.destroy());

  it('carries the template category, rendered tags, severity, actions and expiry; an action is recorded on the item, the delivery and as exactly one event', async () => {
    const user = 'u-approver';
    const token = signUserToken(JWT_SECRET, user);
    const ws = await connect(h.wsBase, { token });
    await send('approve-1', user);
    const m = (await ws.waitFor('message')) as Message;
    expect(m.item).toMatchObject({
      title: 'Approve order 981',
      category: 'orders',
      tags: ['order-981', 'eu'],
      severity: 'high',
      actions: {
        primary: { label: 'Approve', key: 'approve' },
        secondary: { label: 'Open', url: '/orders' },
      },
      actionedAt: null,
    });
    const expiresIn = new Date(m.item.expiresAt as string).getTime() - Date.now();
    expect(expiresIn).toBeGreaterThan(6.9 * 86_400_000);
    expect(m.counts).toMatchObject({ unread: 1, unseen: 1, tabs: { orders: { unread: 1, unseen: 1 } } });

    const userAuth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const taken = await api(
      h.baseUrl,
      'POST',
      `/v1/users/${user}/inbox/items/${m.item.id}/action`,
      { action: 'primary' },
      userAuth,
    );
    expect(taken).toMatchObject({
      status: 200,
      body: { updated: 1, action: 'approve', counts: { unread: 0 } },
    });
    const changed = await ws.waitFor('changed', (f) => f.change === 'actioned');
    expect(changed).toMatchObject({ id: m.item.id, action: 'approve', ids: [m.item.id] });
    // Taking it again, over the socket this time, records nothing more.
    expect(await ws.request({ type: 'action', id: m.item.id, action: 'secondary' })).toMatchObject({
      type: 'ack',
      updated: 0,
    });

    const msg = await api(h.baseUrl, 'GET', '/v1/messages/approve-1');
    const [delivery] = msg.body.deliveries as Array<Record<string, unknown>>;
    expect(delivery).toMatchObject({ status: 'read', action: 'approve' });
    expect(delivery?.actionedAt).not.toBeNull();
    expect(delivery?.readAt).not.toBeNull();
    const db = createPostgresDatabase(dep.databaseUrl, 1);
    try {
      const { rows } = await db.sql.query<{ type: string; payload: { action?: string } }>(
        `SELECT type, payload FROM "StatusEvent" WHERE "deliveryId" = $1 AND type = 'delivery.actioned'`,
        [delivery?.id],
      );
      expect(rows).toEqual([
        { type: 'delivery.actioned', payload: expect.objectContaining({ action: 'approve' }) },
      ]);
    } finally {
      await db.close();
    }
    ws.close();
  });

  it('brings a snoozed item back unread after its time and not before, pushed to a live socket of an instance started after the snooze', async () => {
    const user = 'u-snoozer';
    const token = signUserToken(JWT_SECRET, user);
    const userAuth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    await send('snooze-1', user);
    const item = await eventually(async () => {
      const r = await api(h.baseUrl, 'GET', `/v1/users/${user}/inbox`, undefined, userAuth);
      return (r.body.items as Array<{ id: string }>)[0];
    });
    await api(h.baseUrl, 'POST', `/v1/users/${user}/inbox/read`, { ids: [item.id] }, userAuth);
    const until = new Date(Date.now() + 8000);
    const snoozed = await api(
      h.baseUrl,
      'POST',
      `/v1/users/${user}/inbox/snooze`,
      { ids: [item.id], until: until.toISOString() },
      userAuth,
    );
    expect(snoozed).toMatchObject({ status: 200, body: { updated: 1 } });
    const listed = await api(h.baseUrl, 'GET', `/v1/users/${user}/inbox`, undefined, userAuth);
    expect(listed.body.items).toEqual([]);

    // Herald restarts while the item sleeps: the wake-up is a database row, not a timer of that process.
    await h.stop();
    h = await dep.start();
    const ws = await connect(h.wsBase, { token });
    const hello = await ws.waitFor('hello');
    expect(hello.items).toEqual([]);
    const back = (await ws.waitFor('message', (f) => f.item.id === item.id, 30_000)) as Message;
    const arrivedAt = Date.now();
    expect(arrivedAt).toBeGreaterThanOrEqual(until.getTime());
    expect(back.item).toMatchObject({ readAt: null, seenAt: null, snoozedUntil: null });
    expect(back.counts).toMatchObject({ unread: 1, tabs: { orders: { unread: 1 } } });
    console.log(
      `snooze came back ${arrivedAt - until.getTime()} ms after its time (not a figure: shared machine)`,
    );
    ws.close();
  }, 60_000);

  it('herald inbox recount fixes a count that drifted (as a bug or a hand edit would), tells the sockets, and then finds nothing', async () => {
    const user = 'u-drifted';
    const token = signUserToken(JWT_SECRET, user);
    await send('drift-1', user);
    const ws = await connect(h.wsBase, { token });
    await eventually(async () => (await h.runtime.ctx.services.inbox.counts(user)).unread === 1);
    await h.runtime.ctx.db.sql.query(`UPDATE "InboxCounter" SET unread = 7 WHERE "userId" = $1`, [user]);
    const config = loadConfig({
      HERALD_HOME: h.config.HERALD_HOME,
      DATABASE_URL: dep.databaseUrl,
      AMQP_URL: TEST_AMQP_URL,
      HERALD_QUEUE_PREFIX: dep.prefix,
      LOG_LEVEL: 'silent',
    });
    const lines: string[] = [];
    expect(await inboxCommand(config, ['recount', user], (l) => lines.push(l))).toBe(0);
    expect(lines).toEqual([`${user} total: unread 7 -> 1, unseen 1 -> 1`, 'fixed 1 difference(s)']);
    const fixed = await ws.waitFor('counts');
    expect(fixed.counts).toMatchObject({ unread: 1, unseen: 1, tabs: { orders: { unread: 1, unseen: 1 } } });
    const again: string[] = [];
    await inboxCommand(config, ['recount'], (l) => again.push(l));
    expect(again).toEqual(['no differences']);
    ws.close();
  });
});
