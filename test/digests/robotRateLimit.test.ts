import { startFakeRobot, type FakeRobot } from '../senders/support/fakeRobot';
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
const user = { userId: 'u-oncall', name: 'On call', mobile: '13800000000' };
/** DingTalk's budget, which the fake robot enforces (errcode 410100 past it). */
const PER_MINUTE = 20;
const MINUTE = 60_000;

/** One alert per post, or every alert of a merged post; the same lines either way. */
const ALERT_TEXT =
  '{% if events %}{% for e in events %}- alert {{ e.n }}\n{% endfor %}{% else %}- alert {{ n }}\n{% endif %}';

interface Post {
  at: number;
  /** A digest post ("N alerts"), not one alert's. */
  merged: boolean;
  alerts: number[];
}

/** DingTalk's answer code to one request (0: accepted). */
const errcodeOf = (r: FakeRobot['requests'][number]) => (r.answer as { errcode?: number }).errcode;

/** The posts the robot accepted, with the alert numbers each lists. */
function postsOf(robot: FakeRobot): Post[] {
  return robot.requests
    .filter((r) => errcodeOf(r) === 0)
    .map((r) => {
      const { title, text } = (r.body as { markdown: { title: string; text: string } }).markdown;
      return {
        at: r.receivedAt,
        merged: /^\d+ alerts$/.test(title),
        alerts: [...text.matchAll(/^- alert (\d+)$/gm)].map((m) => Number(m[1])),
      };
    });
}

/** Every alert number listed in the accepted posts, each as often as it was posted. */
const postedAlerts = (robot: FakeRobot) => postsOf(robot).flatMap((p) => p.alerts);

/** No minute (sliding, as DingTalk counts) held more than the budget, and the vendor refused nothing. */
function expectWithinBudget(robot: FakeRobot): void {
  expect(robot.requests.map(errcodeOf)).toEqual(robot.requests.map(() => 0));
  const times = postsOf(robot).map((p) => p.at);
  for (const t of times)
    expect(times.filter((x) => x > t - MINUTE && x <= t).length).toBeLessThanOrEqual(PER_MINUTE);
}

describeWith(
  ['postgres', 'rabbitmq'],
  'robot posts merged when the rate budget is spent (digest.onRateLimit)',
  () => {
    let dep: TestDeployment;
    let h: TestHerald;
    let api: HeraldApi;
    const robots: FakeRobot[] = [];
    const fronts: TlsFront[] = [];
    let untrust: () => void;

    /** A robot of its own (its own budget) and a template posting one alert per envelope to it. */
    async function robotTemplate(code: string, digest?: { onRateLimit: boolean }): Promise<FakeRobot> {
      const robot = await startFakeRobot({ secret: ROBOT_SECRET });
      const front = await startTlsFront(robot.url);
      robots.push(robot);
      fronts.push(front);
      await api.post(
        '/v1/channel-accounts',
        {
          name: `${code}-robot`,
          type: 'dingtalk-robot',
          config: { webhook: front.url, secret: ROBOT_SECRET },
        },
        201,
      );
      await api.post(
        '/v1/templates',
        {
          code,
          name: code,
          variables: { n: 'number' },
          ...(digest ? { digest } : {}),
          channels: {
            dingtalk: {
              account: `${code}-robot`,
              msgtype: 'markdown',
              // A template without a digest cannot name events or count.
              title: digest
                ? '{% if count %}{{ count }} alerts{% else %}alert {{ n }}{% endif %}'
                : 'alert {{ n }}',
              text: digest ? ALERT_TEXT : '- alert {{ n }}\n',
            },
          },
        },
        201,
      );
      return robot;
    }

    /** Publishes alerts from..to over HTTP, twenty at a time. */
    async function publish(code: string, from: number, to: number): Promise<string[]> {
      const ids: string[] = [];
      for (let n = from; n <= to; n += 20) {
        const chunk = Array.from({ length: Math.min(20, to - n + 1) }, (_, i) => n + i);
        await Promise.all(
          chunk.map((k) =>
            api.post('/v1/messages', { id: `${code}-${k}`, template: code, to: [user], data: { n: k } }, 202),
          ),
        );
        ids.push(...chunk.map((k) => `${code}-${k}`));
      }
      return ids;
    }

    /**
     * Waits until the robot accepted `count` alerts; on a timeout the error says what was left: the robot's
     * refusals, the account's holds, the template's unfinished deliveries and its due scheduler rows.
     */
    async function allPosted(
      robot: FakeRobot,
      code: string,
      count: number,
      timeoutMs: number,
    ): Promise<void> {
      try {
        await eventually(async () => postedAlerts(robot).length >= count, timeoutMs, 'every alert posted');
      } catch (err) {
        const sql = h.runtime.ctx.db.sql;
        const refused = robot.requests
          .filter((r) => errcodeOf(r) !== 0)
          .map((r) => ({ at: new Date(r.receivedAt).toISOString(), answer: r.answer }));
        const holds = (await sql.query(`SELECT key, "until", reason FROM "SendHold"`)).rows;
        const pending = (
          await sql.query(
            `SELECT "messageId", status, attempts, reason, "nextAttemptAt" FROM "Delivery"
              WHERE ("templateCode" = $1 OR "messageId" LIKE 'digest-%') AND status NOT IN ('sent', 'digested')`,
            [code],
          )
        ).rows;
        const jobs = (await sql.query(`SELECT kind, key, "runAt", attempts, "lastError" FROM "ScheduledJob"`))
          .rows;
        const state = { posted: postedAlerts(robot).length, refused, holds, pending, jobs };
        throw new Error(`${(err as Error).message}; left: ${JSON.stringify(state)}`, { cause: err });
      }
    }

    const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

    beforeAll(async () => {
      untrust = trustTlsFront();
      dep = createTestDeployment(LOCAL_VENDOR_FAKES);
      h = await dep.start();
      api = heraldApi(h.baseUrl);
    }, 60_000);

    afterAll(async () => {
      await dep?.destroy();
      untrust?.();
      for (const f of fronts) await f.close();
      for (const r of robots) await r.close();
    }, 60_000);

    it(
      'turns a burst of 200 alerts into a few posts that list every alert once, within the budget',
      async () => {
        const robot = await robotTemplate('burst', { onRateLimit: true });
        const ids = await publish('burst', 1, 200);
        await allPosted(robot, 'burst', 200, 4 * MINUTE);
        // Settled: nothing more comes (a post twice would show up here).
        await new Promise((r) => setTimeout(r, 2000));
        expect(postedAlerts(robot).sort((a, b) => a - b)).toEqual(range(1, 200));
        expectWithinBudget(robot);
        const posts = postsOf(robot);
        // The budget's twenty one by one, then the rest merged: a few posts, not 200 (more than 21 only if
        // publishing the burst outlasted the first minute on a loaded machine).
        expect(posts.filter((p) => !p.merged).length).toBeGreaterThanOrEqual(PER_MINUTE);
        expect(posts.filter((p) => p.merged).length).toBeGreaterThanOrEqual(1);
        expect(posts.length).toBeLessThan(60);

        // Each merged envelope says where it went: digested into a digest message that was sent.
        const messages = await Promise.all(ids.map((id) => api.message(id)));
        const merged = messages.filter((m) => m?.status === 'digested');
        expect(merged.length + messages.filter((m) => m?.status === 'completed').length).toBe(200);
        expect(merged.length).toBe(posts.filter((p) => p.merged).flatMap((p) => p.alerts).length);
        const digests = new Set<string>();
        for (const m of merged) {
          const d = m?.deliveries[0];
          expect(d?.status).toBe('digested');
          expect(d?.digestMessageId).toMatch(/^digest-/);
          digests.add(d?.digestMessageId as string);
          // Its attempt row: it waited for the budget and was merged into that digest.
          expect(d?.attemptLog).toEqual([
            expect.objectContaining({
              outcome: 'waiting',
              errorCode: 'merged',
              errorText: expect.stringContaining(`merged into ${d?.digestMessageId}`),
            }),
          ]);
        }
        for (const id of digests) {
          const digest = await api.message(id);
          expect(digest?.status).toBe('completed');
          expect(digest?.source).toBe('digest');
        }
      },
      6 * MINUTE,
    );

    it(
      'merges the posts of envelopes sent to a topic alone too, into a post that mentions no one',
      async () => {
        const robot = await robotTemplate('topical', { onRateLimit: true });
        await api.post('/v1/topics', { key: 'topical-watch', name: 'Watchers' }, 201);
        const ids = range(1, PER_MINUTE + 5).map((n) => `topical-${n}`);
        await Promise.all(
          ids.map((id, i) =>
            api.post(
              '/v1/messages',
              { id, template: 'topical', to: { topic: 'topical-watch' }, data: { n: i + 1 } },
              202,
            ),
          ),
        );
        await allPosted(robot, 'topical', ids.length, 3 * MINUTE);
        await new Promise((r) => setTimeout(r, 2000));
        expect(postedAlerts(robot).sort((a, b) => a - b)).toEqual(range(1, ids.length));
        expectWithinBudget(robot);
        const merged = postsOf(robot).filter((p) => p.merged);
        expect(merged.length).toBeGreaterThanOrEqual(1);
        // No one is mentioned: a topic's members are not the group's.
        for (const r of robot.requests) {
          const at = (r.body as { at?: { atMobiles?: string[]; atUserIds?: string[] } }).at;
          expect([...(at?.atMobiles ?? []), ...(at?.atUserIds ?? [])]).toEqual([]);
        }
        const digestIds = new Set(
          (await Promise.all(ids.map((id) => api.message(id))))
            .filter((m) => m?.status === 'digested')
            .map((m) => m?.deliveries[0]?.digestMessageId as string),
        );
        expect(digestIds.size).toBe(merged.length);
        for (const id of digestIds) expect((await api.message(id))?.status).toBe('completed');
      },
      5 * MINUTE,
    );

    it(
      'without onRateLimit, leaves posts over the budget waiting one by one, as before',
      async () => {
        const robot = await robotTemplate('plain');
        const ids = await publish('plain', 1, PER_MINUTE + 5);
        await robot.waitForAccepted(PER_MINUTE, MINUTE);
        const waiting = await eventually(
          async () => {
            const ms = await Promise.all(ids.map((id) => api.message(id)));
            const w = ms.filter((m) => m?.deliveries[0]?.status === 'retrying');
            return w.length === 5 ? w : undefined;
          },
          MINUTE,
          'five posts waiting',
        );
        for (const m of waiting) {
          expect(m?.deliveries[0]?.digestMessageId ?? null).toBeNull();
          expect(m?.deliveries[0]?.reason).toMatch(/budget spent: 20 per minute/);
        }
        await allPosted(robot, 'plain', ids.length, 3 * MINUTE);
        await new Promise((r) => setTimeout(r, 2000));
        expect(postsOf(robot).map((p) => p.alerts.length)).toEqual(ids.map(() => 1));
        expect(postedAlerts(robot).sort((a, b) => a - b)).toEqual(range(1, ids.length));
        expectWithinBudget(robot);
      },
      5 * MINUTE,
    );

    it(
      'loses and repeats nothing when the consumer restarts while posts are being merged',
      async () => {
        const robot = await robotTemplate('restart', { onRateLimit: true });
        await publish('restart', 1, 60);
        await robot.waitForAccepted(PER_MINUTE, MINUTE);
        // Some posts are merged into an open digest, whose flush (a scheduler row) is due when a slot frees.
        await eventually(
          async () =>
            (
              await h.runtime.ctx.db.sql.query(
                `SELECT 1 FROM "Delivery" d JOIN "DigestBucket" b ON b.id = d."digestMessageId"
                 WHERE d."templateCode" = 'restart' AND d.status = 'digested' AND b."openKey" IS NOT NULL`,
              )
            ).rows.length > 0,
          MINUTE,
          'a post merged into a digest still open',
        );
        await h.stop();
        h = await dep.start();
        api = heraldApi(h.baseUrl);
        await publish('restart', 61, 80);
        await allPosted(robot, 'restart', 80, 4 * MINUTE);
        await new Promise((r) => setTimeout(r, 2000));
        expect(postedAlerts(robot).sort((a, b) => a - b)).toEqual(range(1, 80));
        expectWithinBudget(robot);
      },
      6 * MINUTE,
    );
  },
);
