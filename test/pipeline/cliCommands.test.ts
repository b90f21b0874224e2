import amqplib from 'amqplib';
import { dlqCommand } from '../../src/cli/dlqCommand';
import { queuesCommand } from '../../src/cli/queuesCommand';
import { loadConfig, type Config } from '../../src/config/loadConfig';
import { retryQueueDelays } from '../../src/consumer/retryPolicy';
import { describeWith, TEST_AMQP_URL } from '../support/services';
import {
  createTestDeployment,
  eventually,
  type TestDeployment,
  type TestHerald,
} from '../support/testHerald';
import { heraldApi, orderShipped, type HeraldApi } from '../support/heraldApi';

/** Runs a command function as `herald` would, capturing what it prints. */
async function capture(run: (out: (line: string) => void) => Promise<number>) {
  const lines: string[] = [];
  const code = await run((line) => lines.push(line));
  return { code, lines };
}

describeWith(['postgres', 'rabbitmq'], 'herald queues and herald dlq', () => {
  let dep: TestDeployment;
  let h: TestHerald;
  let api: HeraldApi;
  let config: Config;

  beforeAll(async () => {
    dep = createTestDeployment();
    h = await dep.start();
    api = heraldApi(h.baseUrl);
    await api.createTemplate(orderShipped());
    config = loadConfig({
      HERALD_HOME: h.config.HERALD_HOME,
      DATABASE_URL: dep.databaseUrl,
      AMQP_URL: TEST_AMQP_URL,
      HERALD_QUEUE_PREFIX: dep.prefix,
      HERALD_RETRY_DELAYS: '200ms,400ms,800ms',
      LOG_LEVEL: 'silent',
    });
    const conn = await amqplib.connect(TEST_AMQP_URL);
    const ch = await conn.createConfirmChannel();
    ch.publish(`${dep.prefix}herald`, 'notify.order_shipped', Buffer.from('not json'), { persistent: true });
    ch.publish(
      `${dep.prefix}herald`,
      'notify.order_shipped',
      Buffer.from(JSON.stringify({ id: 'no-vars', template: 'order_shipped', to: [{ userId: 'u-1' }] })),
      { persistent: true },
    );
    // One envelope waiting out a long backoff step, so that a depth other than 0 shows.
    ch.sendToQueue(
      `${dep.prefix}herald.retry.quorum.60000`,
      Buffer.from(JSON.stringify({ id: 'waiting', template: 'order_shipped', to: [{ userId: 'u-1' }] })),
      { persistent: true },
    );
    await ch.waitForConfirms();
    await conn.close();
    await eventually(async () => (await api.deadLetters()).items.length === 2, 15_000, 'two dead letters');
    // A send an hour ahead waits on the scheduler; a row of a kind no instance runs is overdue.
    await api.post(
      '/v1/messages',
      {
        id: 'later',
        template: 'order_shipped',
        to: [{ userId: 'u-1' }],
        data: { orderNo: '1' },
        delay: '1h',
      },
      202,
    );
    await api.reaches('later', 'scheduled', 15_000);
    await h.runtime.ctx.db.sql.query(
      `INSERT INTO "ScheduledJob" (kind, payload, "dueAt", "runAt")
       VALUES ('orphan', '{}', now() - interval '2 minutes', now() - interval '2 minutes')`,
    );
  });
  afterAll(() => dep?.destroy());

  it('herald queues prints every queue with its depth and consumers, and the backlog', async () => {
    const { code, lines } = await capture((out) => queuesCommand(config, out));
    expect(code).toBe(0);
    const delays = retryQueueDelays(config.HERALD_RETRY_DELAYS);
    const queueNames = [
      'herald.dispatch',
      'herald.dispatch.critical',
      ...delays.map((d) => `herald.retry.quorum.${d}`),
      ...delays.map((d) => `herald.retry.critical.quorum.${d}`),
      'herald.dead',
    ].map((q) => `${dep.prefix}${q}`);
    // The scheduler's rows by kind: the digest sweep every consumer keeps, the send, the orphan.
    expect(lines).toHaveLength(1 + queueNames.length + 8);
    expect(lines[0]).toMatch(/^queue\s+messages\s+consumers$/);
    const rows = lines.slice(1, 1 + queueNames.length).map((l) => l.trim().split(/\s+/));
    expect(rows.map((r) => r[0])).toEqual(queueNames);
    // Herald consumes dispatch (both) and dead; the retry queues only wait for their TTL.
    expect(rows.map((r) => [r[1], r[2]])).toEqual(
      queueNames.map((q) => [
        q.endsWith('.retry.quorum.60000') ? '1' : '0',
        q.endsWith('.dispatch') || q.endsWith('.dispatch.critical') || q.endsWith('.dead') ? '1' : '0',
      ]),
    );
    const scheduler = lines.slice(1 + queueNames.length, -2);
    expect(scheduler[1]).toMatch(/^scheduler kind\s+waiting\s+due\s+running\s+overdue/);
    const byKind = new Map(scheduler.slice(2, -1).map((l) => [l.split(/\s+/)[0], l.trim().split(/\s+/)]));
    expect(byKind.get('envelope')?.slice(1)).toEqual(['1', '0', '0', '0', '-']);
    const orphan = byKind.get('orphan');
    expect(orphan?.slice(1, 5)).toEqual(['0', '1', '0', '1']);
    expect(Number(orphan?.[5])).toBeGreaterThanOrEqual(120);
    expect(lines.slice(-2)).toEqual(['oldest unfinished message: none', 'dead letters not replayed: 2']);
  });

  it('herald dlq list prints each dead letter with its code, message id and reason', async () => {
    const { code, lines } = await capture((out) => dlqCommand(config, ['list'], out));
    expect(code).toBe(0);
    const items = (await api.deadLetters()).items;
    expect(lines).toEqual(
      items.map(
        (d) =>
          `${d.id}  ${new Date(d.createdAt).toISOString()}  ${d.code}  ${d.messageId ?? '-'}  ${d.reason}`,
      ),
    );
    expect(lines.map((l) => l.split('  ').slice(2, 4)).sort()).toEqual([
      ['invalid_json', '-'],
      ['invalid_variables', 'no-vars'],
    ]);
    expect(lines.find((l) => l.includes('no-vars'))).toMatch(/orderNo: missing \(expected string\)$/);

    const limited = await capture((out) => dlqCommand(config, ['list', '1'], out));
    expect(limited.lines).toEqual(lines.slice(0, 1));
  });

  it('herald dlq replay and purge act on the rows, and refuse without their arguments', async () => {
    const noVars = (await api.deadLetters({ messageId: 'no-vars' })).items[0];
    if (!noVars) throw new Error('no dead letter for no-vars');
    const replay = await capture((out) => dlqCommand(config, ['replay', noVars.id], out));
    expect(replay).toEqual({
      code: 0,
      lines: [`replayed ${noVars.id} (no-vars) to notify.order_shipped`],
    });
    // Replayed as it was, it is rejected again for the same reason: a third dead letter.
    await eventually(async () => (await api.deadLetters()).items.length === 3, 15_000, 'a third dead letter');
    const listed = await capture((out) => dlqCommand(config, ['list'], out));
    expect(listed.lines.filter((l) => l.endsWith('(replayed)'))).toHaveLength(1);

    expect(await capture((out) => dlqCommand(config, ['purge'], out))).toEqual({
      code: 2,
      lines: ['purge deletes every dead letter; run it again with --yes'],
    });
    expect(await capture((out) => dlqCommand(config, ['purge', '--yes'], out))).toEqual({
      code: 0,
      lines: ['purged 3 dead letters'],
    });
    expect(await capture((out) => dlqCommand(config, ['list'], out))).toEqual({
      code: 0,
      lines: ['no dead letters'],
    });
    expect(
      await capture((out) => dlqCommand(config, ['replay', '00000000-0000-4000-8000-000000000000'], out)),
    ).toEqual({ code: 1, lines: ['dead letter "00000000-0000-4000-8000-000000000000" does not exist'] });
    expect(await capture((out) => dlqCommand(config, ['replay', 'no-vars'], out))).toEqual({
      code: 2,
      lines: ['"no-vars" is not a dead letter id; herald dlq list shows them'],
    });
    const unknown = await capture((out) => dlqCommand(config, ['explode'], out));
    expect(unknown.code).toBe(2);
    expect(unknown.lines).toEqual([
      'usage: herald dlq list [limit] | herald dlq replay <id> | herald dlq purge --yes',
    ]);
  });
});
