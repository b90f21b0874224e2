import { signUserToken } from '../../src/auth/userToken';
import { connect, type TestClient } from '../gateway/support/wsClient';
import { startFakeRobot, type FakeRobot } from '../senders/support/fakeRobot';
import { startSmtpSink, type SmtpSink } from '../senders/support/smtpSink';
import { startTlsFront, trustTlsFront, type TlsFront } from '../e2e/support/tlsFront';
import { heraldApi, type HeraldApi } from '../support/heraldApi';
import { describeWith } from '../support/services';
import {
  createTestDeployment,
  eventually,
  JWT_SECRET,
  LOCAL_VENDOR_FAKES,
  type TestDeployment,
  type TestHerald,
} from '../support/testHerald';

const ROBOT_SECRET = 'SEC0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0';
/** A zone 5 h 45 min from UTC: a window read on the server's clock would not hold "now". */
const ZONE = 'Asia/Kathmandu';
/** How long the person's quiet hours last after the test starts them (the send waits that long). */
const WINDOW_MS = 12_000;
/** The workspace default (HERALD_QUIET_HOURS), for people without their own: long enough not to end here. */
const DEFAULT_WINDOW_MS = 2 * 3600_000;

/** The wall-clock reading HH:MM:SS of an instant in a zone, as quietHours takes it. */
const clockIn = (zone: string, at: number): string =>
  new Intl.DateTimeFormat('en-GB', {
    timeZone: zone,
    hourCycle: 'h23',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).format(new Date(at));

const template = (code: string, extra: Record<string, unknown> = {}) => ({
  code,
  name: code,
  variables: { no: 'string' },
  category: 'reminders',
  ...extra,
  channels: {
    mail: { account: 'sink', subject: `${code} {{ no }}`, html: '<p>{{ no }}</p>' },
    im: { title: `${code} {{ no }}`, body: 'for {{ name }}' },
    dingtalk: { account: 'ops-robot', msgtype: 'text', text: '{{ no }} is out' },
  },
});

interface DeliveryJson {
  channel: string;
  status: string;
  reason: string | null;
  nextAttemptAt: string | null;
  attemptLog: Array<{ outcome: string; createdAt: string }>;
}
interface MessageJson {
  status: string;
  deliveries: DeliveryJson[];
}
interface TimelineJson {
  entries: Array<{
    type: string;
    channel: string | null;
    summary: string;
    detail: Record<string, unknown> | null;
  }>;
}

describeWith(
  ['postgres', 'rabbitmq'],
  "quiet hours: deferred to the window's end in the person's own timezone",
  () => {
    let dep: TestDeployment;
    let h: TestHerald;
    let api: HeraldApi;
    let sink: SmtpSink;
    let robot: FakeRobot;
    let front: TlsFront;
    let untrust: () => void;
    let defaultEnd: number;
    const sockets: TestClient[] = [];

    beforeAll(async () => {
      sink = await startSmtpSink();
      robot = await startFakeRobot({ secret: ROBOT_SECRET });
      front = await startTlsFront(robot.url);
      untrust = trustTlsFront();
      const t0 = Date.now();
      defaultEnd = Math.floor(t0 / 1000) * 1000 + DEFAULT_WINDOW_MS;
      dep = createTestDeployment({
        ...LOCAL_VENDOR_FAKES,
        HERALD_QUIET_HOURS: `${clockIn('UTC', t0 - 60_000)}-${clockIn('UTC', defaultEnd)}`,
        HERALD_QUIET_HOURS_TIMEZONE: 'UTC',
      });
      h = await dep.start();
      api = heraldApi(h.baseUrl);
      await api.createSmtpAccount('sink', sink.port);
      await api.post(
        '/v1/channel-accounts',
        { name: 'ops-robot', type: 'dingtalk-robot', config: { webhook: front.url, secret: ROBOT_SECRET } },
        201,
      );
      await api.createTemplate(template('reminder'));
      await api.createTemplate(template('alarm', { critical: true }));
    }, 90_000);

    afterAll(async () => {
      for (const s of sockets) s.close();
      await dep?.destroy();
      untrust?.();
      await front?.close();
      await robot?.close();
      await sink?.close();
    }, 60_000);

    const message = (id: string) => api.expectStatus<MessageJson>(200, 'GET', `/v1/messages/${id}`);
    /** The deliveries to people (not the robot's group post), by channel name. */
    const personal = (m: MessageJson) =>
      m.deliveries.filter((d) => d.channel !== 'dingtalk').sort((a, b) => a.channel.localeCompare(b.channel));
    const quietRows = async (messageId: string) =>
      (
        await h.runtime.ctx.db.sql.query<{ dueAt: Date }>(
          `SELECT "dueAt" FROM "ScheduledJob" WHERE kind = 'quiet-hours' AND payload->>'messageId' = $1`,
          [messageId],
        )
      ).rows;

    /** A real socket of the user that notes when each `message` frame arrived. */
    async function socketOf(userId: string) {
      const client = await connect(h.wsBase, { token: signUserToken(JWT_SECRET, userId) });
      sockets.push(client);
      const arrivals: Array<{ title: string; at: number }> = [];
      client.ws.on('message', (data) => {
        const f = JSON.parse(data.toString()) as { type: string; item?: { title: string } };
        if (f.type === 'message' && f.item) arrivals.push({ title: f.item.title, at: Date.now() });
      });
      return { client, arrivals };
    }

    it('defers mail and IM to the end of the quiet hours, sends them then and not before; a critical alarm and the group post go at once', async () => {
      const { arrivals } = await socketOf('u-night');
      const now = Date.now();
      const end = Math.floor(now / 1000) * 1000 + WINDOW_MS;
      const quietHours = { from: clockIn(ZONE, now - 60_000), to: clockIn(ZONE, end) };
      await api.expectStatus(200, 'PUT', '/v1/subscribers/u-night', {
        email: 'night@example.com',
        name: 'Night',
        timezone: ZONE,
        quietHours,
      });
      await api.post(
        '/v1/messages',
        { id: 'night-1', template: 'reminder', to: [{ userId: 'u-night' }], data: { no: 'N-1' } },
        202,
      );
      await api.post(
        '/v1/messages',
        { id: 'alarm-1', template: 'alarm', to: [{ userId: 'u-night' }], data: { no: 'A-1' } },
        202,
      );

      // Deferred, with the window's end as its due time, visible on the message and its timeline.
      const held = await eventually(
        async () => {
          const m = await message('night-1');
          return (
            m.status === 'dispatched' &&
            personal(m).length === 2 &&
            personal(m).every((d) => d.status === 'deferred') &&
            m
          );
        },
        30_000,
        'night-1 deferred',
      );
      expect(held.status).toBe('dispatched');
      expect(personal(held).map((d) => [d.channel, d.status, d.reason, d.nextAttemptAt])).toEqual([
        ['im', 'deferred', 'quiet_hours', new Date(end).toISOString()],
        ['mail', 'deferred', 'quiet_hours', new Date(end).toISOString()],
      ]);
      expect((await quietRows('night-1')).map((r) => new Date(r.dueAt).toISOString())).toEqual([
        new Date(end).toISOString(),
      ]);
      const timeline = await api.expectStatus<TimelineJson>(200, 'GET', '/v1/messages/night-1/timeline');
      const deferredEvents = timeline.entries.filter((e) => e.type === 'delivery.deferred');
      expect(deferredEvents.map((e) => e.channel).sort()).toEqual(['im', 'mail']);
      for (const e of deferredEvents) expect(e.summary).toMatch(/quiet_hours until /);

      // The robot's group post follows the group, not the person: it went out already.
      await eventually(async () => robot.requests.length >= 2 || undefined, 30_000, 'the group posts');

      // The critical alarm ignores quiet hours: sent, never deferred.
      const alarm = await api.finished('alarm-1', 30_000);
      expect(alarm.status).toBe('completed');
      const alarmTimeline = await api.expectStatus<TimelineJson>(200, 'GET', '/v1/messages/alarm-1/timeline');
      expect(alarmTimeline.entries.some((e) => e.type === 'delivery.deferred')).toBe(false);
      await sink.waitForMessages(1, 30_000);
      expect(sink.messages.map((m) => m.subject)).toContain('alarm A-1');

      // The deferred ones arrive once the window has ended, and not before (strict), however late.
      expect((await api.finished('night-1', WINDOW_MS + 60_000)).status).toBe('completed');
      const done = await message('night-1');
      const mail = sink.messages.find((m) => m.subject === 'reminder N-1');
      expect(mail).toBeDefined();
      expect(mail?.receivedAt).toBeGreaterThanOrEqual(end);
      const item = await eventually(
        async () => arrivals.find((a) => a.title === 'reminder N-1'),
        10_000,
        'the deferred item on the socket',
      );
      expect(item.at).toBeGreaterThanOrEqual(end);
      expect(arrivals.find((a) => a.title === 'alarm A-1')).toBeDefined();
      for (const d of personal(done)) {
        expect(['sent', 'delivered']).toContain(d.status);
        const sent = d.attemptLog.find((a) => a.outcome === 'sent');
        expect(Date.parse(sent?.createdAt ?? '')).toBeGreaterThanOrEqual(end);
      }
      expect(await quietRows('night-1')).toEqual([]);

      const metrics = await (await fetch(`${h.baseUrl}/metrics`)).text();
      expect(metrics).toMatch(
        /^herald_deliveries_total\{channel="mail",status="deferred",reason="quiet_hours"\} [1-9]/m,
      );
    }, 120_000);

    it('holds people without quiet hours of their own to the workspace default; cancelling cancels the deferred deliveries and their scheduler row', async () => {
      await api.expectStatus(200, 'PUT', '/v1/subscribers/u-plain', { email: 'plain@example.com' });
      await api.post(
        '/v1/messages',
        {
          id: 'plain-1',
          template: 'reminder',
          to: [{ userId: 'u-plain' }, { email: 'walk-in@example.com' }],
          data: { no: 'P-1' },
        },
        202,
      );
      const held = await eventually(
        async () => {
          const m = await message('plain-1');
          return m.status === 'dispatched' && !personal(m).some((d) => d.status === 'queued') && m;
        },
        30_000,
        'plain-1 deferred',
      );
      const until = new Date(defaultEnd).toISOString();
      // The walk-in has no user id, so no inbox: skipped; everything else waits for the default's end.
      expect(personal(held).map((d) => [d.channel, d.status, d.reason, d.nextAttemptAt])).toEqual([
        ['im', 'deferred', 'quiet_hours', until],
        ['im', 'skipped', 'recipient has no userId for in-site messages', null],
        ['mail', 'deferred', 'quiet_hours', until],
        ['mail', 'deferred', 'quiet_hours', until],
      ]);
      expect(await quietRows('plain-1')).toHaveLength(1);

      const outcome = await api.expectStatus<{
        cancelled: Array<{ channel: string; previousStatus: string }>;
      }>(200, 'POST', '/v1/messages/plain-1/cancel', { by: 'quiet-hours test' });
      expect(outcome.cancelled.map((c) => c.previousStatus)).toEqual(['deferred', 'deferred', 'deferred']);
      const after = await message('plain-1');
      expect(personal(after).map((d) => d.status)).toEqual([
        'cancelled',
        'skipped',
        'cancelled',
        'cancelled',
      ]);
      expect(await quietRows('plain-1')).toEqual([]);
      expect(sink.messages.some((m) => m.subject === 'reminder P-1')).toBe(false);
    }, 60_000);

    it("reads and writes the user's own preferences over the socket; an opt-out skips before quiet hours defer", async () => {
      const { client } = await socketOf('u-sock');
      const initial = await client.request({ type: 'getPreferences' });
      expect(initial).toEqual({
        type: 'preferences',
        ref: 'r1',
        preferences: { channels: {}, categories: {} },
      });

      const set = await client.request({
        type: 'setPreferences',
        preferences: {
          channels: { dingtalk: false },
          categories: { reminders: { channels: { mail: false } } },
        },
      });
      const expected = {
        channels: { dingtalk: false },
        categories: { reminders: { channels: { mail: false } } },
      };
      expect(set).toEqual({ type: 'preferences', ref: 'r2', preferences: expected });
      expect(await client.request({ type: 'getPreferences' })).toMatchObject({ preferences: expected });

      // The same preferences over HTTP, for the user and for an admin.
      const mine = await fetch(`${h.baseUrl}/v1/me/preferences`, {
        headers: { authorization: `Bearer ${signUserToken(JWT_SECRET, 'u-sock')}` },
      });
      expect(await mine.json()).toEqual(expected);
      expect(await api.expectStatus(200, 'GET', '/v1/subscribers/u-sock/preferences')).toEqual(expected);

      const bad = await client.request({
        type: 'setPreferences',
        preferences: { channels: { pigeon: false } },
      });
      expect(bad).toMatchObject({ type: 'error', ref: 'r4', code: 'invalid_frame' });
      expect(await client.request({ type: 'getPreferences' })).toMatchObject({ preferences: expected });

      await api.post(
        '/v1/messages',
        {
          id: 'sock-1',
          template: 'reminder',
          to: [{ userId: 'u-sock', email: 'sock@example.com' }],
          data: { no: 'S-1' },
        },
        202,
      );
      const m = await eventually(
        async () => {
          const msg = await message('sock-1');
          return personal(msg).length === 2 && personal(msg).every((d) => d.status !== 'queued') && msg;
        },
        30_000,
        'sock-1 planned',
      );
      // Preference comes before quiet hours: the mail is skipped for good, the IM waits for the default's end.
      expect(personal(m).map((d) => [d.channel, d.status, d.reason])).toEqual([
        ['im', 'deferred', 'quiet_hours'],
        ['mail', 'skipped', 'preference'],
      ]);
    }, 60_000);
  },
);
