import { startSmtpSink, type SmtpSink } from '../senders/support/smtpSink';
import { describeWith } from '../support/services';
import {
  chaosEnvelope,
  createChaosDeployment,
  finishedCount,
  publishAll,
  type ChaosDeployment,
} from './support/chaosDeployment';
import { FULL, chaosSizes } from './support/chaosMode';
import { classify, watchMailbox, type Mailbox } from './support/ledger';
import { reportScenario } from './support/results';
import { waitUntil } from './support/waitUntil';

/** Doubling steps that together outlast the storm (even with the 80 % jitter), so none gives up. */
const DELAYS = FULL ? [2, 4, 8, 16, 32, 64, 64] : [1, 2, 4, 8, 16];

describeWith(['postgres', 'rabbitmq'], 'chaos 6: retry storm', () => {
  let sink: SmtpSink;
  let mailbox: Mailbox;
  let dep: ChaosDeployment;

  beforeAll(async () => {
    sink = await startSmtpSink();
    mailbox = watchMailbox(sink);
    dep = createChaosDeployment({ HERALD_RETRY_DELAYS: DELAYS.map((s) => `${s}s`).join(',') });
  });
  afterAll(async () => {
    await dep?.destroy();
    await sink?.close();
  });

  it('retries with growing delays while the SMTP server answers 451, and completes once it recovers', async () => {
    const { stormEnvelopes: total, stormMs } = chaosSizes;
    const h = await dep.start();
    await dep.setUp(h, sink);
    const ids = Array.from({ length: total }, (_, i) => `storm-${i}`);

    let refused = 0;
    sink.setBehaviour({
      rcpt: () => {
        refused += 1;
        return { code: 451, message: '4.3.0 Try again later' };
      },
    });
    const stormStart = Date.now();
    await publishAll(
      await dep.publisher(),
      ids.map((id, i) => chaosEnvelope(id, i)),
    );
    await new Promise((r) => setTimeout(r, Math.max(0, stormStart + stormMs - Date.now())));
    sink.setBehaviour({});
    const stormEnd = Date.now();
    expect(mailbox.total()).toBe(0);

    await waitUntil(
      async () => (await finishedCount(dep.db, ids)) === total,
      DELAYS.reduce((a, b) => a + b, 0) * 1000 + 120_000,
      'every envelope finished',
    );
    const c = await classify(dep.db, ids, mailbox);

    // The attempt log of each mail delivery: every attempt but the last refused with 451, the gaps between
    // attempts follow the backoff steps (never shorter than the jittered step: no busy retry).
    const { rows } = await dep.db.query<{ deliveryId: string; times: Date[]; outcomes: string[] }>(
      `SELECT a."deliveryId", array_agg(a."createdAt" ORDER BY a.attempt) AS times,
              array_agg(a.outcome::text ORDER BY a.attempt) AS outcomes
         FROM "DeliveryAttempt" a JOIN "Delivery" d ON d.id = a."deliveryId"
        WHERE d.channel = 'mail' GROUP BY a."deliveryId"`,
    );
    expect(rows).toHaveLength(total);
    const gapSums: number[] = [];
    const gapCounts: number[] = [];
    const tooEarly: string[] = [];
    for (const r of rows) {
      expect(r.outcomes[r.outcomes.length - 1]).toBe('sent');
      expect(r.outcomes.slice(0, -1).every((o) => o === 'retryable')).toBe(true);
      for (let k = 1; k < r.times.length; k++) {
        const gap = (r.times[k] as Date).getTime() - (r.times[k - 1] as Date).getTime();
        gapSums[k - 1] = (gapSums[k - 1] ?? 0) + gap;
        gapCounts[k - 1] = (gapCounts[k - 1] ?? 0) + 1;
        // 80 % of the step is the jitter's floor; a little slack for the clocks of two writes.
        if (gap < (DELAYS[k - 1] as number) * 1000 * 0.8 - 50)
          tooEarly.push(`${r.deliveryId} #${k}: ${gap} ms`);
      }
    }
    const meanGapsMs = gapSums.map((s, k) => Math.round(s / (gapCounts[k] as number)));
    const maxAttempts = Math.max(...rows.map((r) => r.times.length));
    reportScenario('retry-storm', {
      ...c,
      extra: {
        stormMs: stormEnd - stormStart,
        refused451: refused,
        retryDelays: DELAYS.map((s) => s * 1000),
        meanGapsMs,
        maxAttempts,
      },
    });
    expect(tooEarly).toEqual([]);
    // Growing delays: on average each gap is longer than the one before, across the doubling steps.
    const doubling = DELAYS.findIndex((d, i) => i > 0 && d <= (DELAYS[i - 1] as number));
    const growing = meanGapsMs.slice(0, doubling === -1 ? undefined : doubling);
    expect(growing.length).toBeGreaterThanOrEqual(3);
    for (let k = 1; k < growing.length; k++) expect(growing[k]).toBeGreaterThan(growing[k - 1] as number);
    expect(refused).toBeGreaterThanOrEqual(total * 3);
    expect(c.problems).toEqual([]);
    expect(c).toMatchObject({
      total,
      completed: total,
      lost: 0,
      duplicated: 0,
      deadLettered: 0,
      repeatedInFlight: 0,
    });
  });
});
