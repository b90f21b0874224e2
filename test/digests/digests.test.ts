import { rescheduleLostFlushes } from '../../src/consumer/digestSweep';
import { digestMessageId } from '../../src/delivery/digestState';
import { startFakeRobot, type FakeRobot } from '../senders/support/fakeRobot';
import { startFakeWecom, type FakeWecom } from '../senders/support/fakeWecom';
import { startSmtpSink, type SmtpSink } from '../senders/support/smtpSink';
import { startTlsFront, trustTlsFront, type TlsFront } from '../e2e/support/tlsFront';
import { heraldApi, type HeraldApi } from '../support/heraldApi';
import { describeWith } from '../support/services';
import {
  createTestDeployment,
  eventually,
  LOCAL_VENDOR_FAKES,
  type TestDeployment,
  type TestHerald,
} from '../support/testHerald';

const ROBOT_SECRET = 'SEC0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0';
const user = { userId: 'u-ops', email: 'ops@example.com', name: 'Ops', mobile: '13800000000' };

describe('digest message ids', () => {
  it('are a function of template, recipient or group, key and window start alone', () => {
    const at = new Date('2026-12-01T12:00:00.000Z');
    const id = digestMessageId('build_failed', 'recipient', 'user:u-1', 'web', at);
    expect(digestMessageId('build_failed', 'recipient', 'user:u-1', 'web', new Date(at))).toBe(id);
    expect(id).toMatch(/^digest-[0-9a-f]{40}$/);
    for (const other of [
      digestMessageId('build_passed', 'recipient', 'user:u-1', 'web', at),
      digestMessageId('build_failed', 'dingtalk', '', 'web', at),
      digestMessageId('build_failed', 'recipient', 'user:u-2', 'web', at),
      digestMessageId('build_failed', 'recipient', 'user:u-1', 'api', at),
      digestMessageId('build_failed', 'recipient', 'user:u-1', 'web', new Date(at.getTime() + 1)),
    ])
      expect(other).not.toBe(id);
  });
});

describeWith(['postgres', 'rabbitmq'], 'digests', () => {
  let dep: TestDeployment;
  let h: TestHerald;
  let api: HeraldApi;
  let sink: SmtpSink;
  let robot: FakeRobot;
  let wecom: FakeWecom;
  let robotFront: TlsFront;
  let wecomFront: TlsFront;
  let untrust: () => void;

  beforeAll(async () => {
    sink = await startSmtpSink();
    robot = await startFakeRobot({ secret: ROBOT_SECRET });
    wecom = await startFakeWecom();
    robotFront = await startTlsFront(robot.url);
    wecomFront = await startTlsFront(wecom.webhook);
    untrust = trustTlsFront();
    dep = createTestDeployment(LOCAL_VENDOR_FAKES);
    h = await dep.start();
    api = heraldApi(h.baseUrl);
    await api.createSmtpAccount('sink', sink.port);
    await api.post(
      '/v1/channel-accounts',
      {
        name: 'ops-robot',
        type: 'dingtalk-robot',
        config: { webhook: robotFront.url, secret: ROBOT_SECRET },
      },
      201,
    );
    await api.post(
      '/v1/channel-accounts',
      { name: 'ops-wecom', type: 'wecom-robot', isDefault: true, config: { webhook: wecomFront.url } },
      201,
    );
    await api.post(
      '/v1/templates',
      {
        code: 'build_failed',
        name: 'Build failed',
        variables: { n: 'number' },
        // Long enough that all 50 are collected before it closes, on a loaded machine too.
        digest: { window: '20s' },
        channels: {
          mail: {
            subject: '{{ count }} builds failed',
            html: '<ul>{% for e in events %}<li>build {{ e.n }}</li>{% endfor %}</ul>',
          },
          im: { title: '{{ count }} builds failed', body: '{% for e in events %}#{{ e.n }} {% endfor %}' },
          dingtalk: {
            account: 'ops-robot',
            msgtype: 'markdown',
            title: '{{ count }} builds failed',
            text: '{% for e in events %}- build {{ e.n }}\n{% endfor %}',
          },
        },
      },
      201,
    );
  }, 60_000);

  /**
   * The order Herald took envelopes in, as it recorded them: accepted time, then (envelopes accepted in one
   * batched statement share that time) the order of their accepted events.
   */
  const takenOrder = async (ids: readonly string[]): Promise<string[]> =>
    (
      await h.runtime.ctx.db.sql.query<{ id: string }>(
        `SELECT m.id FROM "Message" m LEFT JOIN "StatusEvent" e ON e.key = 'message:' || m.id || ':accepted'
         WHERE m.id = ANY($1::text[]) ORDER BY m."createdAt", e."appendOrder"`,
        [ids],
      )
    ).rows.map((r) => r.id);

  afterAll(async () => {
    await dep?.destroy();
    untrust?.();
    await robotFront?.close();
    await wecomFront?.close();
    await robot?.close();
    await wecom?.close();
    await sink?.close();
  }, 60_000);

  it('collects 50 envelopes of one window into one mail, one inbox item and one robot post listing all 50', async () => {
    const ids = Array.from({ length: 50 }, (_, i) => `build-${i + 1}`);
    for (const [i, id] of ids.entries())
      await api.post('/v1/messages', { id, template: 'build_failed', to: [user], data: { n: i + 1 } }, 202);
    // Each is recorded as digested, each delivery naming the digest message it went into.
    const collected = await Promise.all(ids.map((id) => api.reaches(id, 'digested', 30_000)));
    const digestIds = new Set(collected.flatMap((m) => m.deliveries.map((d) => d.digestMessageId)));
    expect(collected[0]?.deliveries.map((d) => [d.channel, d.status]).sort()).toEqual([
      ['dingtalk', 'digested'],
      ['im', 'digested'],
      ['mail', 'digested'],
    ]);
    // One digest for the recipient (mail and inbox), one for the robot's group.
    expect(digestIds.size).toBe(2);
    for (const id of digestIds) {
      expect(id).toMatch(/^digest-/);
      const digest = await api.finished(id as string, 60_000);
      expect(digest.status).toBe('completed');
      expect(digest.source).toBe('digest');
    }
    const mails = sink.messages.filter((m) => m.envelope.to.includes(user.email));
    expect(mails).toHaveLength(1);
    expect(mails[0]?.subject).toBe('50 builds failed');
    for (let n = 1; n <= 50; n++) expect(mails[0]?.html).toContain(`<li>build ${n}</li>`);

    const inbox = await api.expectStatus<{ items: Array<{ title: string; body: string }> }>(
      200,
      'GET',
      `/v1/users/${user.userId}/inbox`,
    );
    expect(inbox.items).toHaveLength(1);
    expect(inbox.items[0]?.title).toBe('50 builds failed');
    // Oldest first: in the order Herald took the envelopes (consumed in parallel, so not quite publish order).
    const taken = (await takenOrder(ids)).map((id) => Number(id.slice('build-'.length)));
    expect([...taken].sort((x, y) => x - y)).toEqual(ids.map((_, i) => i + 1));
    expect(inbox.items[0]?.body.trim()).toBe(taken.map((n) => `#${n}`).join(' '));

    const posts = robot.accepted() as Array<{ markdown: { title: string; text: string } }>;
    expect(posts).toHaveLength(1);
    expect(posts[0]?.markdown.title).toBe('50 builds failed');
    const text = posts[0]?.markdown.text ?? '';
    expect(text.split('\n').filter((l) => l.startsWith('- '))).toEqual(taken.map((n) => `- build ${n}`));
    // The post mentions the recipients of what it collected.
    expect(text.trim().endsWith(`@${user.mobile}`)).toBe(true);

    // A flush that runs again (its instance died before it could mark the job done) sends nothing new:
    // it addresses the same digest message, which has been sent.
    await h.runtime.ctx.db.sql.query(
      `INSERT INTO "ScheduledJob" (kind, key, payload, "dueAt", "runAt")
       SELECT 'digest', id, jsonb_build_object('bucketId', id), now(), now() FROM unnest($1::text[]) AS id`,
      [[...digestIds]],
    );
    await eventually(async () => {
      const { rows } = await h.runtime.ctx.db.sql.query(
        `SELECT 1 FROM "ScheduledJob" WHERE kind IN ('digest', 'envelope')`,
      );
      return rows.length === 0;
    });
    await new Promise((r) => setTimeout(r, 1000));
    expect(sink.messages.filter((m) => m.envelope.to.includes(user.email))).toHaveLength(1);
    expect(robot.accepted()).toHaveLength(1);
    expect(await api.inboxCount(user.userId)).toBe(1);
  }, 120_000);

  it('sends the robot post of envelopes sent to a topic alone, without mentioning anyone', async () => {
    await api.post('/v1/topics', { key: 'release-watchers', name: 'Release watchers' }, 201);
    await api.expectStatus(200, 'PUT', '/v1/subscribers/u-watcher', { email: 'watcher@example.com' });
    await api.post('/v1/topics/release-watchers/members', { userIds: ['u-watcher'] }, 200);
    await api.post(
      '/v1/templates',
      {
        code: 'release_cut',
        name: 'Release cut',
        variables: { n: 'number' },
        digest: { window: '3s' },
        channels: {
          mail: {
            subject: '{{ count }} releases',
            html: '{% for e in events %}<p>release {{ e.n }}</p>{% endfor %}',
          },
          dingtalk: {
            account: 'ops-robot',
            msgtype: 'markdown',
            title: '{{ count }} releases',
            text: '{% for e in events %}- release {{ e.n }}\n{% endfor %}',
          },
        },
      },
      201,
    );
    const ids = [1, 2, 3].map((n) => `release-${n}`);
    for (const [i, id] of ids.entries())
      await api.post(
        '/v1/messages',
        { id, template: 'release_cut', to: { topic: 'release-watchers' }, data: { n: i + 1 } },
        202,
      );
    await eventually(async () => {
      const { rows } = await h.runtime.ctx.db.sql.query(
        `SELECT 1 FROM "Delivery" WHERE "messageId" = ANY($1::text[]) AND status = 'digested'`,
        [ids],
      );
      return rows.length === 6;
    }, 30_000);
    const { rows } = await h.runtime.ctx.db.sql.query<{ channel: string; digest: string }>(
      `SELECT DISTINCT channel::text AS channel, "digestMessageId" AS digest FROM "Delivery"
        WHERE "messageId" = ANY($1::text[])`,
      [ids],
    );
    // One digest for the member (mail), one for the robot's group, each sent when the window closes.
    expect(rows.map((r) => r.channel).sort()).toEqual(['dingtalk', 'mail']);
    for (const r of rows) expect((await api.finished(r.digest, 30_000)).status).toBe('completed');

    const posts = (robot.accepted() as Array<{ markdown: { title: string; text: string } }>).filter(
      (p) => p.markdown.title === '3 releases',
    );
    expect(posts).toHaveLength(1);
    const lines = (posts[0]?.markdown.text ?? '').split('\n').filter((l) => l.startsWith('- '));
    expect([...lines].sort()).toEqual(['- release 1', '- release 2', '- release 3']);
    // The group post names no one: a topic's members are not mentioned.
    expect(posts[0]?.markdown.text).not.toContain('@');
    expect(sink.messages.filter((m) => m.envelope.to.includes('watcher@example.com'))).toHaveLength(1);
  }, 120_000);

  it('flushes a robot window whose flush ran and sent nothing (as before topic-only digests were sent), at the next consumer start', async () => {
    const sql = h.runtime.ctx.db.sql;
    await api.post('/v1/topics', { key: 'tag-watchers', name: 'Tag watchers' }, 201);
    await api.post(
      '/v1/templates',
      {
        code: 'release_tagged',
        name: 'Release tagged',
        variables: { n: 'number' },
        digest: { window: '1m' },
        channels: {
          dingtalk: {
            account: 'ops-robot',
            msgtype: 'markdown',
            title: '{{ count }} tags',
            text: '{% for e in events %}- tag {{ e.n }}\n{% endfor %}',
          },
        },
      },
      201,
    );
    const windowStart = new Date(Date.now() - 6 * 60_000);
    const bucket = digestMessageId('release_tagged', 'dingtalk', '', '', windowStart);
    const ids = ['stuck-tag-1', 'stuck-tag-2'];
    // As the old flush left them: the window closed, its job done and gone, no digest message queued,
    // each envelope digested with its robot delivery naming the window.
    await sql.query(
      `INSERT INTO "DigestBucket" (id, "openKey", "templateCode", scope, "recipientKey", key, "windowStart", "closesAt",
                                   events, recipients, channels, "closedAt", "createdAt")
       VALUES ($1, NULL, 'release_tagged', 'dingtalk', '', '', $2, $3, 2, '[]', '{dingtalk}', $3, $2)`,
      [bucket, windowStart.toISOString(), new Date(windowStart.getTime() + 60_000).toISOString()],
    );
    for (const [i, id] of ids.entries()) {
      const envelope = { id, template: 'release_tagged', to: { topic: 'tag-watchers' }, data: { n: 70 + i } };
      await sql.query(
        `INSERT INTO "Message" (id, "templateCode", "templateVersion", status, "recipientCount", envelope, "createdAt", "updatedAt")
         VALUES ($1, 'release_tagged', 1, 'digested', 1, $2::jsonb, $3::timestamptz + $4 * interval '1 second', $3)`,
        [id, JSON.stringify(envelope), windowStart.toISOString(), i],
      );
      await sql.query(
        `INSERT INTO "Delivery" (id, "messageId", channel, "recipientIndex", "recipientKey", "templateCode", status,
                                 reason, "digestMessageId", "createdAt", "updatedAt")
         VALUES (gen_random_uuid(), $1, 'dingtalk', -1, 'group', 'release_tagged', 'digested', 'digested into ' || $2, $2,
                 $3, $3)`,
        [id, bucket, windowStart.toISOString()],
      );
    }
    expect((await api.expectStatus<{ state: string }>(200, 'GET', `/v1/digests/${bucket}`)).state).toBe(
      'empty',
    );

    // A consumer starting runs the sweep at once, which gives the window its flush again.
    const second = await dep.start({ HERALD_ROLES: 'consumer' });
    try {
      expect((await api.finished(bucket, 30_000)).status).toBe('completed');
    } finally {
      await second.stop();
    }
    const posts = (robot.accepted() as Array<{ markdown: { title: string; text: string } }>).filter(
      (p) => p.markdown.title === '2 tags',
    );
    expect(posts).toHaveLength(1);
    expect(posts[0]?.markdown.text.split('\n').filter((l) => l.startsWith('- '))).toEqual([
      '- tag 70',
      '- tag 71',
    ]);
    expect((await api.expectStatus<{ state: string }>(200, 'GET', `/v1/digests/${bucket}`)).state).toBe(
      'flushed',
    );
    // Swept again, a flushed window is left alone: the sweep schedules nothing.
    const scheduled: unknown[] = [];
    const recorder = { schedule: async (jobs: unknown) => void scheduled.push(jobs) };
    expect(await rescheduleLostFlushes(sql, recorder)).toBe(0);
    expect(scheduled.flat()).toEqual([]);
  }, 120_000);

  it('flushes a key at maxEvents, keeps other keys collecting, and cuts a post over WeCom\'s limit with "… and N more"', async () => {
    await api.post(
      '/v1/templates',
      {
        code: 'deploys',
        name: 'Deploys',
        variables: { project: 'string', note: 'string' },
        digest: { window: '1h', key: 'project', maxEvents: 30 },
        channels: {
          wecom: {
            msgtype: 'text',
            text: '{{ count }} deploys of {{ project }}\n{% for e in events %}{{ e.note }}\n{% endfor %}',
          },
        },
      },
      201,
    );
    const note = (i: number) => `${'x'.repeat(100)} ${i}`;
    for (let i = 1; i <= 30; i++)
      await api.post(
        '/v1/messages',
        { id: `deploy-a-${i}`, template: 'deploys', to: [user], data: { project: 'a', note: note(i) } },
        202,
      );
    for (let i = 1; i <= 3; i++)
      await api.post(
        '/v1/messages',
        { id: `deploy-b-${i}`, template: 'deploys', to: [user], data: { project: 'b', note: note(i) } },
        202,
      );
    // 30 of project a fill the digest long before its hour is up; project b's three keep waiting.
    const a = await api.reaches('deploy-a-30', 'digested', 30_000);
    const digestId = a.deliveries[0]?.digestMessageId as string;
    await api.finished(digestId, 30_000);
    await api.reaches('deploy-b-3', 'digested', 30_000);
    const b = await api.message('deploy-b-1');
    expect(b?.deliveries[0]?.digestMessageId).not.toBe(digestId);
    expect((await api.message(b?.deliveries[0]?.digestMessageId as string))?.status).toBeUndefined();

    // One of b's leaves its open digest when cancelled.
    const cancelled = await api.post<{ status: string; cancelled: Array<{ previousStatus: string }> }>(
      '/v1/messages/deploy-b-1/cancel',
      {},
      200,
    );
    expect(cancelled.status).toBe('cancelled');
    expect(cancelled.cancelled).toEqual([expect.objectContaining({ previousStatus: 'digested' })]);
    // One of a's cannot: its digest has been sent.
    expect((await api.call('POST', '/v1/messages/deploy-a-1/cancel', {})).status).toBe(409);

    const posts = wecom.accepted() as Array<{ text: { content: string } }>;
    expect(posts).toHaveLength(1);
    const content = posts[0]?.text.content ?? '';
    expect(Buffer.byteLength(content)).toBeLessThanOrEqual(2048);
    const lines = content.split('\n');
    expect(lines[0]).toBe('30 deploys of a');
    const shown = lines.filter((l) => l.startsWith('x'));
    expect(shown.length).toBeGreaterThan(10);
    // Not publish order: a loaded consumer accepts several of the burst in one statement (see takenOrder).
    const taken = (await takenOrder(Array.from({ length: 30 }, (_, i) => `deploy-a-${i + 1}`))).map((id) =>
      Number(id.slice('deploy-a-'.length)),
    );
    expect(shown).toEqual(taken.slice(0, shown.length).map(note));
    expect(lines[lines.length - 1]).toBe(`… and ${30 - shown.length} more`);
  }, 120_000);
});
