import amqplib, { type ChannelModel, type ConfirmChannel } from 'amqplib';
import { createPostgresDatabase } from '../../src/db/postgresDatabase';
import type { Database } from '../../src/db/database';
import { auditCommand } from '../../src/cli/auditCommand';
import { dlqCommand } from '../../src/cli/dlqCommand';
import { loadConfig } from '../../src/config/loadConfig';
import { startSmtpSink, type SmtpSink } from '../senders/support/smtpSink';
import { describeWith, TEST_AMQP_URL } from '../support/services';
import { heraldApi, orderShipped, type DeliveryJson, type HeraldApi } from '../support/heraldApi';
import {
  createTestDeployment,
  eventually,
  type TestDeployment,
  type TestHerald,
} from '../support/testHerald';

interface AuditJson {
  id: string;
  at: string;
  actor: { id: string; name: string };
  action: string;
  target: { type: string; id: string };
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  detail: Record<string, unknown> | null;
  requestId: string | null;
}
interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

const PASSWORD = 'Pw-AUDITCANARY-41c2';
const PASSWORD2 = 'Pw-AUDITCANARY-new-9e0d';

describeWith(['postgres', 'rabbitmq'], 'the audit log of admin changes (PostgreSQL, RabbitMQ)', () => {
  let dep: TestDeployment;
  let h: TestHerald;
  let admin: HeraldApi;
  let viaKey: HeraldApi;
  let adminKey: { id: string; name: string; key: string };
  let publishKey: { id: string; name: string; key: string };
  let sink: SmtpSink;
  let conn: ChannelModel;
  let ch: ConfirmChannel;
  let db: Database;

  /** Every audit row, oldest first, walked page by page (two a page) with the cursor. */
  async function allRows(query = ''): Promise<AuditJson[]> {
    const rows: AuditJson[] = [];
    let cursor: string | null = null;
    do {
      const page: Page<AuditJson> = await admin.expectStatus<Page<AuditJson>>(
        200,
        'GET',
        `/v1/audit?limit=2${query}${cursor ? `&cursor=${cursor}` : ''}`,
      );
      rows.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    return rows.reverse();
  }
  const only = async (action: string, targetId?: string) => {
    const rows = (await allRows()).filter(
      (r) => r.action === action && (targetId === undefined || r.target.id === targetId),
    );
    expect({ action, rows: rows.length }).toEqual({ action, rows: 1 });
    return rows[0] as AuditJson;
  };

  beforeAll(async () => {
    dep = createTestDeployment({ HERALD_STATUS_WEBHOOK_ALLOW_HOSTS: '127.0.0.1' });
    h = await dep.start();
    admin = heraldApi(h.baseUrl);
    adminKey = await admin.post('/v1/keys', { name: 'ops-console', scopes: ['admin'] }, 201);
    publishKey = await admin.post('/v1/keys', { name: 'orders', scopes: ['publish'] }, 201);
    viaKey = heraldApi(h.baseUrl, adminKey.key);
    sink = await startSmtpSink();
    sink.setBehaviour({ rcpt: () => ({ code: 550, message: '5.1.1 No such user here' }) });
    conn = await amqplib.connect(TEST_AMQP_URL);
    ch = await conn.createConfirmChannel();
    db = createPostgresDatabase(dep.databaseUrl, 1);
  }, 60_000);
  afterAll(async () => {
    await db?.close();
    await conn?.close();
    await dep?.destroy();
    await sink?.close();
  });

  it('records key creation with the bootstrap token as actor, never the key', async () => {
    const created = await only('apiKey.create', adminKey.id);
    expect(created.actor).toEqual({ id: 'bootstrap:1', name: 'bootstrap:1' });
    expect(created.after).toMatchObject({ id: adminKey.id, name: 'ops-console', scopes: ['admin'] });
    expect(created.requestId).toEqual(expect.any(String));
    expect(JSON.stringify(await allRows())).not.toContain('hk_');
  });

  it('records template create, new version and archive with before and after, by the key that made them', async () => {
    await viaKey.createTemplate(orderShipped('audited'));
    await viaKey.expectStatus(200, 'PUT', '/v1/templates/audited', {
      ...orderShipped('audited'),
      name: 'Audited v2',
    });
    await admin.expectStatus(200, 'DELETE', '/v1/templates/audited');

    const create = await only('template.create', 'audited');
    expect(create.actor).toEqual({ id: adminKey.id, name: 'ops-console' });
    expect(create).toMatchObject({ target: { type: 'template', id: 'audited' }, before: null });
    expect(create.after).toMatchObject({ code: 'audited', currentVersion: 1 });
    const update = await only('template.update', 'audited');
    expect(update.actor.id).toBe(adminKey.id);
    expect(update.before).toMatchObject({ name: 'Order shipped', currentVersion: 1 });
    expect(update.after).toMatchObject({ name: 'Audited v2', currentVersion: 2 });
    const archive = await only('template.archive', 'audited');
    expect(archive.actor.id).toBe('bootstrap:1');
    expect(archive.before).toMatchObject({ status: 'active' });
    expect(archive.after).toMatchObject({ status: 'archived' });
  });

  it('records channel-account writes naming the secrets that changed, never their values', async () => {
    const config = (password?: string) => ({
      host: '127.0.0.1',
      port: sink.port,
      secure: false,
      allowInsecureAuth: true,
      user: 'herald',
      ...(password ? { password } : {}),
      from: 'Herald <noreply@example.com>',
    });
    await viaKey.post(
      '/v1/channel-accounts',
      { name: 'sink', type: 'smtp', isDefault: true, config: config(PASSWORD) },
      201,
    );
    await viaKey.expectStatus(200, 'PUT', '/v1/channel-accounts/sink', {
      type: 'smtp',
      isDefault: true,
      config: config(PASSWORD2),
    });
    await viaKey.expectStatus(200, 'PUT', '/v1/channel-accounts/sink', {
      type: 'smtp',
      isDefault: true,
      config: { ...config(), from: 'Herald Ops <noreply@example.com>' },
    });
    await viaKey.post('/v1/channel-accounts', { name: 'spare', type: 'smtp', config: config(PASSWORD) }, 201);
    await viaKey.expectStatus(204, 'DELETE', '/v1/channel-accounts/spare');

    const rows = (await allRows('&targetType=channelAccount')).filter((r) => r.target.id === 'sink');
    expect(rows.map((r) => [r.action, r.detail])).toEqual([
      ['channelAccount.create', { secretsChanged: ['password'] }],
      ['channelAccount.replace', { secretsChanged: ['password'] }],
      ['channelAccount.replace', { secretsChanged: [] }],
    ]);
    expect(rows[2]?.before).toMatchObject({ config: { from: 'Herald <noreply@example.com>' } });
    expect(rows[2]?.after).toMatchObject({ config: { from: 'Herald Ops <noreply@example.com>' } });
    await only('channelAccount.delete', 'spare');
    const everything = JSON.stringify(await db.sql.query('SELECT * FROM "AuditEvent"'));
    expect(everything).not.toContain('AUDITCANARY');
  });

  it('records a manual retry, a cancellation by a publish key, dead-letter replays, deletes and purges', async () => {
    await admin.createTemplate(orderShipped());
    await admin.expectStatus(202, 'POST', '/v1/messages', {
      id: 'audit-retry',
      template: 'order_shipped',
      to: [{ userId: 'u-1', email: 'nobody@example.com' }],
      data: { orderNo: '1' },
      channels: ['mail'],
    });
    const failed = await admin.finished('audit-retry');
    const mail = failed.deliveries[0] as DeliveryJson;
    expect(mail.status).toBe('failed');
    await viaKey.expectStatus(202, 'POST', `/v1/deliveries/${mail.id}/retry`);
    expect((await only('delivery.retry', mail.id)).detail).toMatchObject({ messageId: 'audit-retry' });

    const later = new Date(Date.now() + 3_600_000).toISOString();
    const publisher = heraldApi(h.baseUrl, publishKey.key);
    await publisher.expectStatus(202, 'POST', '/v1/messages', {
      id: 'audit-cancel',
      template: 'order_shipped',
      to: [{ userId: 'u-1' }],
      data: { orderNo: '2' },
      channels: ['im'],
      sendAt: later,
    });
    await admin.reaches('audit-cancel', 'scheduled');
    await publisher.expectStatus(200, 'POST', '/v1/messages/audit-cancel/cancel', {});
    // A refusal changes nothing and records nothing.
    expect((await publisher.call('POST', '/v1/messages/audit-cancel/cancel', {})).status).toBe(409);
    const cancel = await only('message.cancel', 'audit-cancel');
    expect(cancel.actor).toEqual({ id: publishKey.id, name: 'orders' });

    for (const n of [1, 2, 3]) {
      ch.publish(`${dep.prefix}herald`, 'notify.x', Buffer.from(`not json ${n}`), { persistent: true });
      await ch.waitForConfirms();
    }
    const letters = await eventually(
      async () => {
        const items = (await admin.deadLetters()).items;
        return items.length >= 3 ? items : undefined;
      },
      15_000,
      'three dead letters',
    );
    const [first, second] = letters;
    await viaKey.expectStatus(202, 'POST', `/v1/dead-letters/${first?.id}/replay`);
    await viaKey.expectStatus(204, 'DELETE', `/v1/dead-letters/${second?.id}`);
    expect(
      (await viaKey.call('DELETE', '/v1/dead-letters/00000000-0000-4000-8000-000000000000')).status,
    ).toBe(404);
    await only('deadLetter.replay', first?.id);
    await only('deadLetter.delete', second?.id);

    const cli = loadConfig({
      HERALD_HOME: h.config.HERALD_HOME,
      DATABASE_URL: dep.databaseUrl,
      AMQP_URL: TEST_AMQP_URL,
      HERALD_QUEUE_PREFIX: dep.prefix,
      LOG_LEVEL: 'silent',
    });
    expect(await dlqCommand(cli, ['purge', '--yes'], () => undefined)).toBe(0);
    const purge = await only('deadLetter.purge');
    expect(purge.actor.id).toMatch(/^cli:/);
    expect(purge.detail).toEqual({ purged: expect.any(Number) });
    expect(purge.detail?.purged).toBeGreaterThanOrEqual(2);
    const lines: string[] = [];
    expect(await auditCommand(cli, ['2'], (l) => lines.push(l))).toBe(0);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^\d{4}-\S+ {2}cli:\S+ {2}deadLetter\.purge {2}deadLetter:\*$/);
    expect(await auditCommand(cli, ['zero'], () => undefined)).toBe(2);
  });

  it('records status-webhook writes, naming a changed signing secret but never its value', async () => {
    const hook = { url: 'http://127.0.0.1:9/hook', events: ['message.cancelled'] };
    const created = await viaKey.post<{ id: string }>(
      '/v1/webhooks',
      { ...hook, secret: 'whsec-AUDITCANARY-0123456789' },
      201,
    );
    await viaKey.expectStatus(200, 'PUT', `/v1/webhooks/${created.id}`, {
      ...hook,
      secret: 'whsec-AUDITCANARY-abcdefghij',
    });
    await viaKey.expectStatus(200, 'PUT', `/v1/webhooks/${created.id}`, { ...hook, description: 'ops' });
    await viaKey.expectStatus(204, 'DELETE', `/v1/webhooks/${created.id}`);
    const rows = await allRows(`&targetType=statusWebhook&targetId=${created.id}`);
    expect(rows.map((r) => [r.action, r.detail])).toEqual([
      ['statusWebhook.create', null],
      ['statusWebhook.replace', { secretChanged: true }],
      ['statusWebhook.replace', { secretChanged: false }],
      ['statusWebhook.delete', null],
    ]);
    expect(rows[2]?.after).toMatchObject({ description: 'ops' });
    expect(JSON.stringify(await db.sql.query('SELECT * FROM "AuditEvent"'))).not.toContain('AUDITCANARY');
  });

  it('records directory, topic and inbox-tab writes without the person’s addresses or data', async () => {
    await viaKey.expectStatus(200, 'PUT', '/v1/subscribers/u-audit', {
      email: 'AUDITCANARY@example.com',
      name: 'Audit Canary',
      data: { plan: 'AUDITCANARY' },
    });
    await viaKey.post(
      '/v1/subscribers/bulk',
      { subscribers: [{ userId: 'u-bulk', email: 'b@example.com' }] },
      200,
    );
    await viaKey.expectStatus(200, 'PUT', '/v1/subscribers/u-audit/preferences', {
      channels: { mail: false },
      categories: {},
    });
    await viaKey.post('/v1/topics', { key: 'audit-oncall', name: 'Audit on-call' }, 201);
    await viaKey.post('/v1/topics/audit-oncall/members', { userIds: ['u-audit', 'u-bulk'] }, 200);
    await viaKey.post('/v1/topics/audit-oncall/members/remove', { userIds: ['u-bulk'] }, 200);
    await viaKey.expectStatus(200, 'PUT', '/v1/inbox/tabs/audit-urgent', { filter: { severity: ['high'] } });
    await viaKey.expectStatus(204, 'DELETE', '/v1/inbox/tabs/audit-urgent');
    await viaKey.expectStatus(200, 'DELETE', '/v1/subscribers/u-audit');

    expect((await only('subscriber.upsert', 'u-audit')).detail).toEqual({
      fields: ['data', 'email', 'name'],
    });
    expect((await only('subscriber.bulkUpsert')).detail).toEqual({ upserted: 1 });
    expect((await only('subscriber.preferences', 'u-audit')).after).toMatchObject({
      channels: { mail: false },
    });
    expect((await only('topic.create', 'audit-oncall')).actor.id).toBe(adminKey.id);
    expect((await only('topic.addMembers', 'audit-oncall')).detail).toEqual({ given: 2, changed: 2 });
    expect((await only('topic.removeMembers', 'audit-oncall')).detail).toEqual({ given: 1, changed: 1 });
    expect((await only('inboxTab.replace', 'audit-urgent')).after).toEqual({
      name: 'audit-urgent',
      filter: { severity: ['high'] },
    });
    await only('inboxTab.delete', 'audit-urgent');
    expect((await only('subscriber.erase', 'u-audit')).detail).toMatchObject({
      userId: 'u-audit',
      subscriber: true,
    });
    // Erasure cannot reach the append-only log, so nothing of the person but their id may be in it.
    expect(JSON.stringify(await db.sql.query('SELECT * FROM "AuditEvent"'))).not.toContain('AUDITCANARY');
  });

  it('filters by actor, target type and time; each action above left exactly one row', async () => {
    const rows = await allRows();
    const counts: Record<string, number> = {};
    for (const r of rows) counts[r.action] = (counts[r.action] ?? 0) + 1;
    expect(counts).toEqual({
      'apiKey.create': 2,
      'template.create': 2,
      'template.update': 1,
      'template.archive': 1,
      'channelAccount.create': 2,
      'channelAccount.replace': 2,
      'channelAccount.delete': 1,
      'delivery.retry': 1,
      'message.cancel': 1,
      'deadLetter.replay': 1,
      'deadLetter.delete': 1,
      'deadLetter.purge': 1,
      'statusWebhook.create': 1,
      'statusWebhook.replace': 2,
      'statusWebhook.delete': 1,
      'subscriber.upsert': 1,
      'subscriber.bulkUpsert': 1,
      'subscriber.preferences': 1,
      'subscriber.erase': 1,
      'topic.create': 1,
      'topic.addMembers': 1,
      'topic.removeMembers': 1,
      'inboxTab.replace': 1,
      'inboxTab.delete': 1,
    });
    const byKey = await allRows(`&actor=${adminKey.id}`);
    expect(byKey.length).toBeGreaterThan(0);
    expect(byKey.every((r) => r.actor.id === adminKey.id)).toBe(true);
    const templates = await allRows('&targetType=template');
    expect(new Set(templates.map((r) => r.target.type))).toEqual(new Set(['template']));
    const cut = rows[rows.length - 3] as AuditJson;
    const since = await allRows(`&since=${encodeURIComponent(cut.at)}`);
    expect(since.map((r) => r.id)).toEqual(rows.filter((r) => r.at >= cut.at).map((r) => r.id));
    expect((await admin.call('GET', '/v1/audit?cursor=bogus')).status).toBe(400);
    expect((await heraldApi(h.baseUrl, publishKey.key).call('GET', '/v1/audit')).status).toBe(403);
  });

  it('the database refuses UPDATE, DELETE and TRUNCATE on the audit table', async () => {
    const before = await db.sql.query<{ n: string }>('SELECT count(*)::text AS n FROM "AuditEvent"');
    for (const sql of [
      `UPDATE "AuditEvent" SET "actorId" = 'someone-else'`,
      `DELETE FROM "AuditEvent"`,
      `TRUNCATE "AuditEvent"`,
    ])
      await expect(db.sql.query(sql)).rejects.toThrow(/AuditEvent is append-only/);
    const after = await db.sql.query<{ n: string }>('SELECT count(*)::text AS n FROM "AuditEvent"');
    expect(after.rows).toEqual(before.rows);
    const actors = await db.sql.query<{ actorId: string }>(
      `SELECT DISTINCT "actorId" FROM "AuditEvent" WHERE "actorId" = 'someone-else'`,
    );
    expect(actors.rows).toEqual([]);
  });
});
