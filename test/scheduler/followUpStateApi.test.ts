import { startSmtpSink, type SmtpSink } from '../senders/support/smtpSink';
import { heraldApi, type HeraldApi, type Page } from '../support/heraldApi';
import { describeWith } from '../support/services';
import { createTestDeployment, eventually, type TestDeployment } from '../support/testHerald';

interface DigestJson {
  id: string;
  kind: string;
  templateCode: string;
  scope: string;
  userId: string | null;
  events: number;
  windowStart: string;
  closesAt: string;
  dueAt: string | null;
  closedAt: string | null;
  state: string;
  message: {
    id: string;
    status: string;
    deliveries: Array<{ channel: string; status: string; count: number }>;
  } | null;
}

interface EscalationJson {
  messageId: string;
  templateCode: string;
  messageStatus: string;
  escalation: {
    after: string;
    unless: string;
    channels: string[];
    watching: string | null;
    dueAt: string | null;
    state: string;
  } | null;
  fallback: { channels: string[]; state: string } | null;
  deliveries: Array<{ channel: string; userId: string | null; status: string; cause: string | null }>;
  createdAt: string;
}

describeWith(['postgres', 'rabbitmq'], 'digest and escalation state over the admin API', () => {
  let dep: TestDeployment;
  let api: HeraldApi;
  let sink: SmtpSink;
  const digests = (query: Record<string, string>) =>
    api.expectStatus<Page<DigestJson>>(200, 'GET', `/v1/digests?${new URLSearchParams(query).toString()}`);
  const escalations = (query: Record<string, string>) =>
    api.expectStatus<Page<EscalationJson>>(
      200,
      'GET',
      `/v1/escalations?${new URLSearchParams(query).toString()}`,
    );

  beforeAll(async () => {
    sink = await startSmtpSink();
    sink.setBehaviour({
      rcpt: (a) => (a.startsWith('bounce@') ? { code: 550, message: '5.1.1 no such user' } : undefined),
    });
    dep = createTestDeployment();
    api = heraldApi((await dep.start()).baseUrl);
    await api.createSmtpAccount('sink', sink.port);
    await api.post(
      '/v1/templates',
      {
        code: 'tally',
        name: 'Tally',
        variables: { n: 'number' },
        // Long enough that every envelope is collected and listed before it closes, on a loaded machine too.
        digest: { window: '8s' },
        channels: {
          im: { title: '{{ count }} events', body: '{% for e in events %}#{{ e.n }} {% endfor %}' },
        },
      },
      201,
    );
    await api.post(
      '/v1/templates',
      {
        code: 'invoice',
        name: 'Invoice',
        variables: {},
        escalate: { after: '5s', unless: 'read', channels: ['mail'] },
        channels: {
          im: { title: 'Invoice due', body: 'Please pay' },
          mail: { subject: 'Invoice still unpaid', html: '<p>Please pay</p>' },
        },
      },
      201,
    );
    await api.post(
      '/v1/templates',
      {
        code: 'disk',
        name: 'Disk',
        variables: {},
        fallback: ['im'],
        channels: {
          mail: { subject: 'Disk full', html: '<p>Disk full</p>' },
          im: { title: 'Disk full (mail failed)', body: 'Disk full' },
        },
      },
      201,
    );
  }, 60_000);
  afterAll(async () => {
    await dep?.destroy();
    await sink?.close();
  });

  it('lists open digest windows per recipient with their events and due time, pages them, then shows what each flush sent', async () => {
    const publishedAt = Date.now();
    for (const [i, userId] of ['u-a', 'u-a', 'u-a', 'u-b'].entries())
      await api.post(
        '/v1/messages',
        { id: `tally-${i}`, template: 'tally', to: [{ userId }], data: { n: i } },
        202,
      );
    for (let i = 0; i < 4; i++) await api.reaches(`tally-${i}`, 'digested');

    const open = await digests({ template: 'tally' });
    expect(open.items.map((d) => [d.userId, d.events, d.state, d.kind, d.scope])).toEqual(
      expect.arrayContaining([
        ['u-a', 3, 'open', 'window', 'recipient'],
        ['u-b', 1, 'open', 'window', 'recipient'],
      ]),
    );
    expect(open.items).toHaveLength(2);
    for (const d of open.items) {
      expect(new Date(d.closesAt).getTime() - new Date(d.windowStart).getTime()).toBe(8000);
      expect(d.dueAt).toBe(d.closesAt);
      expect(new Date(d.windowStart).getTime()).toBeGreaterThanOrEqual(publishedAt - 1000);
      expect([d.closedAt, d.message]).toEqual([null, null]);
    }
    // Filters: the user, the state, another template.
    expect((await digests({ userId: 'u-a' })).items.map((d) => d.events)).toEqual([3]);
    expect((await digests({ state: 'flushed', template: 'tally' })).items).toEqual([]);
    expect((await digests({ template: 'invoice' })).items).toEqual([]);
    // Pages of one, with the project's cursor: each once, none twice.
    const first = await digests({ template: 'tally', limit: '1' });
    expect(first.nextCursor).not.toBeNull();
    const second = await digests({ template: 'tally', limit: '1', cursor: first.nextCursor as string });
    expect([...first.items, ...second.items].map((d) => d.id).sort()).toEqual(
      open.items.map((d) => d.id).sort(),
    );
    expect(second.nextCursor).toBeNull();
    const forged = await api.call<{ code: string }>('GET', '/v1/digests?cursor=bm90LW91cnM');
    expect([forged.status, forged.body.code]).toEqual([400, 'invalid_cursor']);

    // One window: the deliveries it collected, each naming its message.
    const ua = open.items.find((d) => d.userId === 'u-a') as DigestJson;
    const detail = await api.expectStatus<
      DigestJson & { collected: Array<{ messageId: string; status: string }> }
    >(200, 'GET', `/v1/digests/${ua.id}`);
    // As a set: consecutive envelopes can go in concurrent batches, so the order Herald took them (the
    // listing's, covered by test/digests/digestOrder.test.ts) need not be the order they were published.
    expect(detail.collected.map((c) => [c.messageId, c.status]).sort()).toEqual([
      ['tally-0', 'digested'],
      ['tally-1', 'digested'],
      ['tally-2', 'digested'],
    ]);
    expect((await api.call('GET', '/v1/digests/digest-nope')).status).toBe(404);

    // After the window: flushed, each with its digest message and what it sent.
    const flushed = await eventually(async () => {
      const page = await digests({ template: 'tally', state: 'flushed' });
      const done = page.items.every((d) => d.message?.status === 'completed');
      return page.items.length === 2 && done ? page.items : undefined;
    }, 40_000);
    expect(Date.now()).toBeGreaterThanOrEqual(publishedAt + 8000);
    for (const d of flushed) {
      expect(d.message?.id).toBe(d.id);
      expect(d.message?.deliveries).toEqual([{ channel: 'im', status: 'sent', count: 1 }]);
      expect(d.closedAt).not.toBeNull();
      expect(d.dueAt).toBeNull();
    }
    expect((await digests({ template: 'tally', state: 'open' })).items).toEqual([]);
  }, 90_000);

  it('lists pending escalations with what they wait for and when, then escalated or met; fallbacks as they fall back', async () => {
    const unread = { userId: 'u-late', email: 'late@example.com' };
    const reader = { userId: 'u-reader', email: 'reader@example.com' };
    await api.post('/v1/messages', { id: 'inv-1', template: 'invoice', to: [unread] }, 202);
    await api.post('/v1/messages', { id: 'inv-2', template: 'invoice', to: [reader] }, 202);
    for (const id of ['inv-1', 'inv-2']) await api.finished(id);

    const pending = await escalations({ template: 'invoice', state: 'pending' });
    expect(pending.items.map((e) => e.messageId).sort()).toEqual(['inv-1', 'inv-2']);
    for (const e of pending.items) {
      expect(e.escalation).toMatchObject({ after: '5s', unless: 'read', channels: ['mail'], watching: 'im' });
      const dueAt = new Date(e.escalation?.dueAt as string).getTime();
      expect(dueAt).toBeGreaterThan(new Date(e.createdAt).getTime() + 4000);
      expect(e.deliveries.map((d) => [d.channel, d.status])).toEqual([['im', 'sent']]);
    }
    await api.post(`/v1/users/${reader.userId}/inbox/read`, { all: true }, 200);

    const settled = await eventually(async () => {
      const page = await escalations({ template: 'invoice' });
      const states = Object.fromEntries(page.items.map((e) => [e.messageId, e.escalation?.state]));
      const mail = page.items
        .find((e) => e.messageId === 'inv-1')
        ?.deliveries.find((d) => d.channel === 'mail' && d.status === 'sent');
      return states['inv-2'] === 'met' && states['inv-1'] === 'escalated' && mail ? page : undefined;
    }, 30_000);
    const inv1 = settled.items.find((e) => e.messageId === 'inv-1') as EscalationJson;
    expect(inv1.deliveries.map((d) => [d.channel, d.status, d.cause])).toEqual([
      ['im', 'sent', null],
      ['mail', 'sent', 'escalation: im not read within 5s'],
    ]);
    expect(inv1.escalation?.dueAt).toBeNull();
    expect(inv1.fallback).toBeNull();
    expect((await escalations({ state: 'met' })).items.map((e) => e.messageId)).toEqual(['inv-2']);
    expect((await escalations({ userId: 'u-late' })).items.map((e) => e.messageId)).toEqual(['inv-1']);

    await api.post(
      '/v1/messages',
      { id: 'disk-1', template: 'disk', to: [{ userId: 'u-bounce', email: 'bounce@example.com' }] },
      202,
    );
    await api.finished('disk-1', 30_000);
    await api.post(
      '/v1/messages',
      { id: 'disk-2', template: 'disk', to: [{ userId: 'u-fine', email: 'fine@example.com' }] },
      202,
    );
    await api.finished('disk-2', 30_000);
    const disk = await escalations({ template: 'disk' });
    expect(disk.items.map((e) => [e.messageId, e.escalation, e.fallback?.state])).toEqual([
      ['disk-2', null, 'not_needed'],
      ['disk-1', null, 'fallen_back'],
    ]);
    expect(
      disk.items[1]?.deliveries.map((d) => [d.channel, d.status, d.cause?.split(':')[0] ?? null]),
    ).toEqual([
      ['mail', 'failed', null],
      ['im', 'sent', 'fallback'],
    ]);
    expect((await escalations({ state: 'fallen_back' })).items.map((e) => e.messageId)).toEqual(['disk-1']);
    // Newest first across templates, paged with the cursor.
    const all: string[] = [];
    let cursor: string | null = null;
    do {
      const page: Page<EscalationJson> = await escalations({ limit: '1', ...(cursor ? { cursor } : {}) });
      all.push(...page.items.map((e) => e.messageId));
      cursor = page.nextCursor;
    } while (cursor);
    const whole = (await escalations({})).items.map((e) => e.messageId);
    expect(all).toEqual(whole);
    expect([all.slice(0, 2), all.slice(2).sort()]).toEqual([
      ['disk-2', 'disk-1'],
      ['inv-1', 'inv-2'],
    ]);
  }, 90_000);
});
