import { writeAuditRow } from '../../src/audit/auditLog';
import { createDeadLetterStore } from '../../src/deadLetters/deadLetterStore';
import { orderShipped } from '../support/heraldApi';
import { describeWith } from '../support/services';
import { useTestApp, type SuiteApp } from '../support/testApp';
import { createTestPglite, createTestPostgres, type TestDatabase } from '../support/testDatabase';

interface Change {
  action: string;
  /** Makes what the change needs to exist first (with the audit log working). */
  setup?: (t: SuiteApp) => Promise<void>;
  /** The change, through the API, or (where the test app has no route for it) as the CLI makes it. */
  request:
    | { method: 'POST' | 'PUT' | 'DELETE'; url: string; payload?: Record<string, unknown> }
    | ((t: SuiteApp) => Promise<unknown>);
  /** What the change leaves in the database, for a test that finds it there or not. */
  present: (t: SuiteApp) => Promise<boolean>;
}

/** The change's HTTP status; 200 or 500 for one made without HTTP. */
async function make(t: SuiteApp, request: Change['request']): Promise<{ statusCode: number; body: string }> {
  if (typeof request !== 'function') return t.call(request.method, request.url, request.payload);
  return request(t).then(
    () => ({ statusCode: 200, body: '' }),
    (err: Error) => ({ statusCode: 500, body: err.message }),
  );
}

const found = async (t: SuiteApp, url: string) => (await t.call('GET', url)).statusCode === 200;
const webhookBody = (path: string) => ({
  url: `https://status-hooks.example.com/${path}`,
  events: ['message.accepted'],
  secret: 'atomic-signing-secret-0123456789',
});
/** For a change made through `call` inside `request`: a refusal becomes the failure `make` reports. */
const okOrThrow = (res: { statusCode: number; body: string }) => {
  if (res.statusCode >= 300) throw new Error(`${res.statusCode}: ${res.body}`);
};
const smtpAccount = (name: string) => ({
  name,
  type: 'smtp',
  config: { host: '127.0.0.1', port: 9, secure: false, from: 'Audit <audit@example.com>' },
});

let revokedKeyId = '';
let webhookId = '';
const keyNamed = async (t: SuiteApp, name: string) =>
  (await t.call('GET', '/v1/keys'))
    .json<{ items: Array<{ name: string; revokedAt: string | null }> }>()
    .items.find((k) => k.name === name);

/** Admin changes of each kind whose write is a database transaction. */
const CHANGES: Change[] = [
  {
    action: 'template.create',
    request: { method: 'POST', url: '/v1/templates', payload: orderShipped('atomic_new') },
    present: (t) => found(t, '/v1/templates/atomic_new'),
  },
  {
    action: 'template.update',
    setup: async (t) => void (await t.call('POST', '/v1/templates', orderShipped('atomic_upd'))),
    request: {
      method: 'PUT',
      url: '/v1/templates/atomic_upd',
      payload: { ...orderShipped('atomic_upd'), name: 'Renamed' },
    },
    present: async (t) =>
      (await t.call('GET', '/v1/templates/atomic_upd')).json<{ currentVersion: number }>().currentVersion ===
      2,
  },
  {
    action: 'template.archive',
    setup: async (t) => void (await t.call('POST', '/v1/templates', orderShipped('atomic_arch'))),
    request: { method: 'DELETE', url: '/v1/templates/atomic_arch' },
    present: async (t) =>
      (await t.call('GET', '/v1/templates/atomic_arch')).json<{ status: string }>().status === 'archived',
  },
  {
    action: 'channelAccount.create',
    request: { method: 'POST', url: '/v1/channel-accounts', payload: smtpAccount('atomic-smtp') },
    present: (t) => found(t, '/v1/channel-accounts/atomic-smtp'),
  },
  {
    action: 'channelAccount.delete',
    setup: async (t) => void (await t.call('POST', '/v1/channel-accounts', smtpAccount('atomic-gone'))),
    request: { method: 'DELETE', url: '/v1/channel-accounts/atomic-gone' },
    present: async (t) => !(await found(t, '/v1/channel-accounts/atomic-gone')),
  },
  {
    action: 'channelAccount.replace',
    setup: async (t) => void (await t.call('POST', '/v1/channel-accounts', smtpAccount('atomic-put'))),
    request: {
      method: 'PUT',
      url: '/v1/channel-accounts/atomic-put',
      payload: {
        type: 'smtp',
        config: { ...smtpAccount('atomic-put').config, from: 'Changed <changed@example.com>' },
      },
    },
    present: async (t) =>
      (await t.call('GET', '/v1/channel-accounts/atomic-put')).body.includes('changed@example.com'),
  },
  {
    action: 'apiKey.revoke',
    setup: async (t) => {
      revokedKeyId = (await t.call('POST', '/v1/keys', { name: 'atomic-revoked', scopes: ['read'] })).json<{
        id: string;
      }>().id;
    },
    request: (t) => t.call('DELETE', `/v1/keys/${revokedKeyId}`).then(okOrThrow),
    present: async (t) => Boolean((await keyNamed(t, 'atomic-revoked'))?.revokedAt),
  },
  {
    action: 'apiKey.create',
    request: { method: 'POST', url: '/v1/keys', payload: { name: 'atomic-key', scopes: ['read'] } },
    present: async (t) => (await keyNamed(t, 'atomic-key')) !== undefined,
  },
  {
    action: 'subscriber.erase',
    setup: async (t) =>
      void (await t.call('PUT', '/v1/subscribers/atomic-erased', { email: 'e@example.com' })),
    request: { method: 'DELETE', url: '/v1/subscribers/atomic-erased' },
    present: async (t) => !(await found(t, '/v1/subscribers/atomic-erased')),
  },
  {
    action: 'subscriber.preferences',
    request: {
      method: 'PUT',
      url: '/v1/subscribers/atomic-prefs/preferences',
      payload: { channels: { mail: false }, categories: {} },
    },
    present: (t) => found(t, '/v1/subscribers/atomic-prefs'),
  },
  {
    action: 'subscriber.upsert',
    request: { method: 'PUT', url: '/v1/subscribers/atomic-user', payload: { email: 'atomic@example.com' } },
    present: (t) => found(t, '/v1/subscribers/atomic-user'),
  },
  {
    action: 'topic.create',
    request: { method: 'POST', url: '/v1/topics', payload: { key: 'atomic-topic', name: 'Atomic' } },
    present: (t) => found(t, '/v1/topics/atomic-topic'),
  },
  {
    action: 'topic.addMembers',
    setup: async (t) => void (await t.call('POST', '/v1/topics', { key: 'atomic-members', name: 'Members' })),
    request: {
      method: 'POST',
      url: '/v1/topics/atomic-members/members',
      payload: { userIds: ['atomic-a', 'atomic-b'] },
    },
    present: async (t) =>
      (await t.call('GET', '/v1/topics/atomic-members')).json<{ members: number }>().members === 2,
  },
  {
    action: 'inboxTab.delete',
    setup: async (t) =>
      void (await t.call('PUT', '/v1/inbox/tabs/atomic-gone', { filter: { category: 'x' } })),
    request: { method: 'DELETE', url: '/v1/inbox/tabs/atomic-gone' },
    present: async (t) =>
      !(await t.call('GET', '/v1/inbox/tabs'))
        .json<{ items: Array<{ name: string }> }>()
        .items.some((tab) => tab.name === 'atomic-gone'),
  },
  {
    action: 'inboxTab.replace',
    request: { method: 'PUT', url: '/v1/inbox/tabs/atomic', payload: { filter: { category: 'orders' } } },
    present: async (t) =>
      (await t.call('GET', '/v1/inbox/tabs'))
        .json<{ items: Array<{ name: string }> }>()
        .items.some((tab) => tab.name === 'atomic'),
  },
  {
    action: 'statusWebhook.create',
    request: {
      method: 'POST',
      url: '/v1/webhooks',
      payload: webhookBody('atomic'),
    },
    present: async (t) =>
      (await t.call('GET', '/v1/webhooks'))
        .json<{ items: Array<{ url: string }> }>()
        .items.some((w) => w.url.endsWith('/atomic')),
  },
  {
    action: 'statusWebhook.delete',
    setup: async (t) => {
      webhookId = (await t.call('POST', '/v1/webhooks', webhookBody('atomic-gone'))).json<{ id: string }>()
        .id;
    },
    request: (t) => t.call('DELETE', `/v1/webhooks/${webhookId}`).then(okOrThrow),
    present: async (t) => !(await found(t, `/v1/webhooks/${webhookId}`)),
  },
  {
    action: 'suppression.add',
    request: { method: 'POST', url: '/v1/suppressions', payload: { address: 'atomic@example.com' } },
    present: async (t) =>
      (await t.call('GET', '/v1/suppressions?address=atomic@example.com')).json<{ items: unknown[] }>().items
        .length === 1,
  },
  {
    action: 'suppression.remove',
    setup: async (t) => void (await t.call('POST', '/v1/suppressions', { address: 'gone@example.com' })),
    request: { method: 'DELETE', url: '/v1/suppressions/gone@example.com' },
    present: async (t) =>
      (await t.call('GET', '/v1/suppressions?address=gone@example.com')).json<{ items: unknown[] }>().items
        .length === 0,
  },
  {
    // The test app runs no pipeline, so no dead-letter routes: the store as `herald dlq purge` calls it.
    action: 'deadLetter.purge',
    setup: async (t) =>
      void (await t.ctx.db.prisma.deadLetter.create({
        data: { code: 'invalid_json', reason: 'atomic test', payload: new Uint8Array([123]) },
      })),
    request: (t) =>
      createDeadLetterStore(t.ctx.db, () => undefined).purge((tx, purged) =>
        writeAuditRow(tx, {
          actor: { id: 'cli:test', name: 'cli:test' },
          action: 'deadLetter.purge',
          target: { type: 'deadLetter', id: '*' },
          detail: { purged },
        }),
      ),
    present: async (t) => (await t.ctx.db.prisma.deadLetter.count()) === 0,
  },
  {
    // An unknown id is cancelled ahead of its envelope: the change is a tombstone message row.
    action: 'message.cancel',
    request: { method: 'POST', url: '/v1/messages/atomic-msg/cancel', payload: {} },
    present: (t) => found(t, '/v1/messages/atomic-msg'),
  },
];

const databases: Array<[string, Array<'postgres'>, () => Promise<TestDatabase>]> = [
  ['PostgreSQL', ['postgres'], createTestPostgres],
  ['PGlite', [], createTestPglite],
];

for (const [name, needs, open] of databases) {
  describeWith(needs, `audit rows in the transaction of their change (${name})`, () => {
    const t = useTestApp(open);
    const auditRows = async (action: string) => t.db.prisma.auditEvent.count({ where: { action } });

    beforeAll(async () => {
      for (const c of CHANGES) await c.setup?.(t);
      // Stands for a crash between the change and its audit row: every audit insert fails.
      await t.db.sql.query(
        `CREATE FUNCTION refuse_audit() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN RAISE EXCEPTION 'audit write refused by the test'; END $$`,
      );
    });

    it.each(CHANGES.map((c) => [c.action, c] as const))(
      '%s: no change without its row, then both',
      async (action, change) => {
        expect(await change.present(t)).toBe(false);
        const rowsBefore = await auditRows(action);
        await t.db.sql.query(
          `CREATE TRIGGER refuse_audit BEFORE INSERT ON "AuditEvent" FOR EACH ROW EXECUTE FUNCTION refuse_audit()`,
        );
        try {
          const refused = await make(t, change.request);
          expect({ action, status: refused.statusCode }).toEqual({ action, status: 500 });
        } finally {
          await t.db.sql.query(`DROP TRIGGER refuse_audit ON "AuditEvent"`);
        }
        expect({ action, changed: await change.present(t) }).toEqual({ action, changed: false });
        expect(await auditRows(action)).toBe(rowsBefore);

        const done = await make(t, change.request);
        expect({ action, ok: done.statusCode < 300 || done.body }).toEqual({ action, ok: true });
        expect({ action, changed: await change.present(t) }).toEqual({ action, changed: true });
        expect(await auditRows(action)).toBe(rowsBefore + 1);
      },
    );
  });
}
