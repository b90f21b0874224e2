import { heraldApi, type HeraldApi } from '../support/heraldApi';
import { startSmtpSink, type SmtpSink } from '../senders/support/smtpSink';
import { describeWith } from '../support/services';
import {
  createTestDeployment,
  eventually,
  type TestDeployment,
  type TestHerald,
} from '../support/testHerald';

/** The sum of a metric's series whose labels include all of `labels`, from /metrics of each instance. */
async function metric(instances: readonly TestHerald[], name: string, labels: Record<string, string>) {
  let sum = 0;
  for (const h of instances) {
    const text = await (await fetch(`${h.baseUrl}/metrics`)).text();
    for (const line of text.split('\n')) {
      const m = /^(\w+)\{([^}]*)\} (\S+)$/.exec(line);
      if (!m || m[1] !== name) continue;
      const has = new Set((m[2] as string).split(','));
      if (Object.entries(labels).every(([k, v]) => has.has(`${k}="${v}"`))) sum += Number(m[3]);
    }
  }
  return sum;
}

/**
 * Two full Herald instances (each a consumer on the one dispatch queue) on one database: a template's
 * throttle and deduplication are counted in PostgreSQL, so they hold whichever instance takes a message.
 */
describeWith(['postgres', 'rabbitmq'], 'throttle and deduplication across two consumer instances', () => {
  let dep: TestDeployment;
  let a: TestHerald;
  let b: TestHerald;
  let api: HeraldApi;
  const apis = () => [heraldApi(a.baseUrl), heraldApi(b.baseUrl)];

  beforeAll(async () => {
    dep = createTestDeployment();
    a = await dep.start();
    b = await dep.start();
    api = heraldApi(a.baseUrl);
    await api.createTemplate({
      code: 'build_failed',
      name: 'Build failed',
      variables: { n: 'number', project: 'string' },
      throttle: { limit: 3, window: '1m', key: 'project' },
      channels: { im: { title: 'Build {{ n }} of {{ project }} failed', body: 'see CI' } },
    });
    await api.createTemplate({
      code: 'disk_alert',
      name: 'Disk alert',
      variables: { text: 'string' },
      dedupe: { window: '10m' },
      channels: { im: { title: '{{ text }}', body: 'on {{ userId }}' } },
    });
    await api.createTemplate({
      code: 'breach',
      name: 'Breach',
      critical: true,
      throttle: { limit: 1, window: '1m' },
      dedupe: { window: '1m' },
      channels: { im: { title: 'Breach', body: 'now' } },
    });
  }, 60_000);
  afterAll(() => dep?.destroy(), 60_000);

  const publish = (via: HeraldApi, id: string, template: string, userId: string, data: object) =>
    via.post('/v1/messages', { id, template, to: [{ userId }], data }, 202);
  const deliveryOf = async (id: string) => {
    const m = await api.finished(id);
    expect(m.deliveries).toHaveLength(1);
    return m.deliveries[0] as { status: string; reason: string | null };
  };

  it('sends 3 a minute and skips the 4th as throttled, and a key value has a budget of its own', async () => {
    for (let n = 1; n <= 3; n++) {
      await publish(apis()[n % 2] as HeraldApi, `seq-${n}`, 'build_failed', 'u-seq', { n, project: 'web' });
      expect(await deliveryOf(`seq-${n}`)).toMatchObject({ status: 'sent' });
    }
    await publish(api, 'seq-4', 'build_failed', 'u-seq', { n: 4, project: 'web' });
    const fourth = await api.finished('seq-4');
    expect(fourth.status).toBe('completed');
    expect(fourth.deliveries.map((d) => [d.status, d.reason])).toEqual([['skipped', 'throttled']]);
    await publish(api, 'seq-api', 'build_failed', 'u-seq', { n: 5, project: 'api' });
    expect(await deliveryOf('seq-api')).toMatchObject({ status: 'sent' });
    expect(await api.inboxCount('u-seq')).toBe(4);
  }, 60_000);

  it('lets exactly 3 of a burst of 12 through while both instances consume it', async () => {
    const envelopesBefore = await Promise.all([a, b].map((h) => metric([h], 'herald_envelopes_total', {})));
    const ids = Array.from({ length: 12 }, (_, i) => `burst-${i}`);
    await Promise.all(
      ids.map((id, i) =>
        publish(apis()[i % 2] as HeraldApi, id, 'build_failed', 'u-burst', { n: i, project: 'web' }),
      ),
    );
    const outcomes = await Promise.all(ids.map((id) => deliveryOf(id)));
    expect(outcomes.filter((d) => d.status === 'sent')).toHaveLength(3);
    expect(outcomes.filter((d) => d.status === 'skipped' && d.reason === 'throttled')).toHaveLength(9);
    expect(await api.inboxCount('u-burst')).toBe(3);
    // Both instances took some of the burst: the count was shared, not each instance's own.
    const envelopesAfter = await Promise.all([a, b].map((h) => metric([h], 'herald_envelopes_total', {})));
    expect(envelopesAfter[0]).toBeGreaterThan(envelopesBefore[0] as number);
    expect(envelopesAfter[1]).toBeGreaterThan(envelopesBefore[1] as number);
  }, 60_000);

  it('skips the identical second message as deduplicated and sends a different one', async () => {
    await publish(api, 'disk-1', 'disk_alert', 'u-d', { text: 'disk 91% full' });
    expect(await deliveryOf('disk-1')).toMatchObject({ status: 'sent' });
    // The same envelope again is the same message, not its own duplicate: it stays sent.
    const consumed = () => metric([a, b], 'herald_envelopes_total', {});
    const before = await consumed();
    await publish(heraldApi(b.baseUrl), 'disk-1', 'disk_alert', 'u-d', { text: 'disk 91% full' });
    await publish(heraldApi(b.baseUrl), 'disk-2', 'disk_alert', 'u-d', { text: 'disk 91% full' });
    expect(await deliveryOf('disk-2')).toMatchObject({ status: 'skipped', reason: 'deduplicated' });
    await eventually(async () => (await consumed()) >= before + 2, 20_000, 'both envelopes to be consumed');
    expect(await deliveryOf('disk-1')).toMatchObject({ status: 'sent' });
    await publish(api, 'disk-3', 'disk_alert', 'u-d', { text: 'disk 97% full' });
    expect(await deliveryOf('disk-3')).toMatchObject({ status: 'sent' });
    // Another person's content differs ({{ userId }} is in it) and is theirs anyway.
    await publish(api, 'disk-4', 'disk_alert', 'u-e', { text: 'disk 91% full' });
    expect(await deliveryOf('disk-4')).toMatchObject({ status: 'sent' });
    expect(await api.inboxCount('u-d')).toBe(2);
  }, 60_000);

  it('lets a critical template past its throttle and deduplication', async () => {
    for (const id of ['breach-1', 'breach-2']) {
      await publish(api, id, 'breach', 'u-c', {});
      expect(await deliveryOf(id)).toMatchObject({ status: 'sent' });
    }
  }, 60_000);

  it('counts the skips in /metrics by reason, across the instances', async () => {
    const skipped = (reason: string) =>
      metric([a, b], 'herald_deliveries_total', { channel: 'im', status: 'skipped', reason });
    expect(await skipped('throttled')).toBe(10);
    expect(await skipped('deduplicated')).toBe(1);
  });

  it('erasing a subscriber removes their throttle and deduplication rows', async () => {
    await api.expectStatus(200, 'PUT', '/v1/subscribers/u-d', { name: 'D' });
    await api.expectStatus(200, 'DELETE', '/v1/subscribers/u-d');
    const { rows } = await a.runtime.ctx.db.sql.query(
      `SELECT 1 FROM "DedupeKey" WHERE "recipientKey" = 'user:u-d'
       UNION ALL SELECT 1 FROM "ThrottleWindow" WHERE "recipientKey" = 'user:u-d'`,
    );
    expect(rows).toHaveLength(0);
    const { rows: others } = await a.runtime.ctx.db.sql.query(
      `SELECT 1 FROM "DedupeKey" WHERE "recipientKey" = 'user:u-e'`,
    );
    expect(others).toHaveLength(1);
  });
});

/**
 * What is not sent does not use the budget (README, "Throttle and deduplication"): a delivery skipped for
 * a suppressed address or an opt-out leaves the person's throttle as it was.
 */
describeWith(['postgres', 'rabbitmq'], 'throttle and skipped deliveries', () => {
  let dep: TestDeployment;
  let sink: SmtpSink;
  let api: HeraldApi;

  beforeAll(async () => {
    sink = await startSmtpSink();
    dep = createTestDeployment();
    api = heraldApi((await dep.start()).baseUrl);
    await api.createSmtpAccount('sink', sink.port);
    await api.createTemplate({
      code: 'invoice',
      name: 'Invoice',
      variables: { n: 'number' },
      throttle: { limit: 2, window: '1m' },
      channels: { mail: { subject: 'Invoice {{ n }}', html: '<p>invoice {{ n }}</p>' } },
    });
  }, 60_000);
  afterAll(async () => {
    await dep?.destroy();
    await sink?.close();
  }, 60_000);

  let seq = 0;
  const send = async (to: object) => {
    const id = `invoice-${++seq}`;
    await api.post('/v1/messages', { id, template: 'invoice', to: [to], data: { n: seq } }, 202);
    const m = await api.finished(id);
    return m.deliveries.map((d) => [d.status, d.reason]);
  };

  it('a suppressed delivery between two good ones leaves the budget to them', async () => {
    await api.post('/v1/suppressions', { address: 'old@example.com', reason: 'bounced' }, 201);
    expect(await send({ userId: 'u-moved', email: 'new@example.com' })).toEqual([['sent', null]]);
    expect(await send({ userId: 'u-moved', email: 'old@example.com' })).toEqual([['skipped', 'suppressed']]);
    expect(await send({ userId: 'u-moved', email: 'new@example.com' })).toEqual([['sent', null]]);
    // The budget of two is now spent by what was sent.
    expect(await send({ userId: 'u-moved', email: 'new@example.com' })).toEqual([['skipped', 'throttled']]);
    expect(sink.messages.filter((m) => m.envelope.to.includes('new@example.com'))).toHaveLength(2);
  }, 60_000);

  it('an address suppressed while mail was skipped gets its whole budget once it is lifted', async () => {
    await api.post('/v1/suppressions', { address: 'back@example.com', reason: 'manual' }, 201);
    for (let i = 0; i < 2; i++)
      expect(await send({ email: 'back@example.com' })).toEqual([['skipped', 'suppressed']]);
    await api.expectStatus(204, 'DELETE', '/v1/suppressions/back@example.com');
    for (let i = 0; i < 2; i++) expect(await send({ email: 'back@example.com' })).toEqual([['sent', null]]);
  }, 60_000);

  it('an opted-out delivery leaves the budget too', async () => {
    await api.expectStatus(200, 'PUT', '/v1/subscribers/u-quiet', { email: 'quiet@example.com' });
    const prefs = (mail: boolean) =>
      api.expectStatus(200, 'PUT', '/v1/subscribers/u-quiet/preferences', { channels: { mail } });
    await prefs(false);
    expect(await send({ userId: 'u-quiet' })).toEqual([['skipped', 'preference']]);
    await prefs(true);
    for (let i = 0; i < 2; i++) expect(await send({ userId: 'u-quiet' })).toEqual([['sent', null]]);
  }, 60_000);
});
