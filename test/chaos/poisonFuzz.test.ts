import amqplib from 'amqplib';
import { startSmtpSink, type SmtpSink } from '../senders/support/smtpSink';
import { TEST_AMQP_URL, describeWith } from '../support/services';
import { createChaosDeployment, finishedCount, type ChaosDeployment } from './support/chaosDeployment';
import { chaosSizes } from './support/chaosMode';
import { fuzzCases } from './support/fuzzEnvelopes';
import type { HeraldProcess } from './support/heraldProcess';
import { classify, watchMailbox, type Mailbox } from './support/ledger';
import { reportScenario } from './support/results';
import { waitUntil } from './support/waitUntil';

const SEED = Number(process.env.CHAOS_SEED ?? 20_261_125);
const MiB = 1024 * 1024;
/** Peak RSS the consumer may reach: prefetch is bounded, and nothing about a bad envelope may pile up. */
const RSS_LIMIT = 768 * MiB;

describeWith(['postgres', 'rabbitmq'], 'chaos 5: poison and fuzz', () => {
  let sink: SmtpSink;
  let mailbox: Mailbox;
  let dep: ChaosDeployment;

  beforeAll(async () => {
    sink = await startSmtpSink();
    mailbox = watchMailbox(sink);
    dep = createChaosDeployment();
  });
  afterAll(async () => {
    await dep?.destroy();
    await sink?.close();
  });

  it('dead-letters every bad envelope with a reason, delivers the good ones, and never crashes', async () => {
    const cases = fuzzCases(chaosSizes.fuzzEnvelopes, chaosSizes.fuzzHugeBodies, SEED);
    const h: HeraldProcess = await dep.start();
    await dep.setUp(h, sink);
    const rss: number[] = [];
    const sampler = setInterval(() => {
      const r = h.rss();
      if (r !== undefined) rss.push(r);
    }, 200);

    const conn = await amqplib.connect(TEST_AMQP_URL);
    try {
      const ch = await conn.createConfirmChannel();
      for (const c of cases) {
        ch.publish(dep.names.exchange, 'notify.chaos_notice', c.body, {
          persistent: true,
          contentType: 'application/json',
          messageId: c.messageId,
        });
        if (c.body.length > MiB) await ch.waitForConfirms();
      }
      await ch.waitForConfirms();
      await ch.close();
    } finally {
      await conn.close();
    }

    const good = cases.filter((c) => c.good).map((c) => c.messageId);
    const bad = cases.filter((c) => !c.good).map((c) => c.messageId);
    const deadCount = async () => {
      const { rows } = await dep.db.query<{ n: string }>(
        `SELECT count(DISTINCT "messageId") AS n FROM "DeadLetter" WHERE "messageId" = ANY($1)`,
        [bad],
      );
      return Number(rows[0]?.n);
    };
    try {
      await waitUntil(
        async () => (await finishedCount(dep.db, good)) === good.length && (await deadCount()) === bad.length,
        300_000,
        'every good envelope delivered and every bad one dead-lettered',
        1000,
      );
    } finally {
      clearInterval(sampler);
    }

    const { rows: dead } = await dep.db.query<{
      messageId: string;
      code: string;
      reason: string;
      rows: number;
    }>(
      `SELECT "messageId", min(code) AS code, min(reason) AS reason, count(*)::int AS rows
         FROM "DeadLetter" WHERE "messageId" = ANY($1) GROUP BY "messageId"`,
      [bad],
    );
    const kindOf = new Map(cases.map((c) => [c.messageId, c.kind]));
    const codesByKind: Record<string, string[]> = {};
    for (const d of dead) {
      const kind = kindOf.get(d.messageId) as string;
      codesByKind[kind] = [...new Set([...(codesByKind[kind] ?? []), d.code])];
    }
    const goodLedger = await classify(dep.db, good, mailbox);
    const peakRss = Math.max(...rss);
    reportScenario('poison-fuzz', {
      total: cases.length,
      completed: goodLedger.completed,
      lost: goodLedger.lost + (bad.length - dead.length),
      duplicated: goodLedger.duplicated,
      deadLettered: dead.length + goodLedger.deadLettered,
      repeatedInFlight: goodLedger.repeatedInFlight,
      extra: {
        seed: SEED,
        good: good.length,
        bad: bad.length,
        hugeBodies: cases.filter((c) => c.kind === 'huge_10mb').length,
        deadLetterRowsRepeated: dead.reduce((n, d) => n + d.rows - 1, 0),
        peakRssMiB: Math.round(peakRss / MiB),
        restarts: h.isRunning() ? 0 : 1,
        codes: Object.entries(codesByKind)
          .map(([k, cs]) => `${k}:${cs.join('|')}`)
          .sort()
          .join(','),
      },
    });

    expect(h.isRunning()).toBe(true);
    expect(peakRss).toBeLessThan(RSS_LIMIT);
    expect(goodLedger.problems).toEqual([]);
    expect(goodLedger).toMatchObject({ completed: good.length, lost: 0, duplicated: 0, deadLettered: 0 });
    expect(dead).toHaveLength(bad.length);
    // Each one rejected for what is wrong with it, not by RabbitMQ's delivery limit after a crash loop.
    expect(
      dead.filter((d) => !d.reason || d.code.startsWith('broker_') || d.code === 'delivery_limit'),
    ).toEqual([]);
    // Nothing good was dead-lettered, and nothing bad was recorded twice.
    expect(dead.filter((d) => d.rows > 1)).toEqual([]);
  });
});
