import { startSmtpSink, type SmtpSink } from '../senders/support/smtpSink';
import { describeWith } from '../support/services';
import {
  chaosEnvelope,
  createChaosDeployment,
  finishedCount,
  publishAll,
  type ChaosDeployment,
} from './support/chaosDeployment';
import { chaosSizes } from './support/chaosMode';
import { settledWorkQueueTotals } from './support/infra';
import { classify, watchMailbox, type Mailbox } from './support/ledger';
import { reportScenario } from './support/results';
import { waitUntil } from './support/waitUntil';

const GRACE_MS = 15_000;

describeWith(['postgres', 'rabbitmq'], 'chaos 4: SIGTERM drain', () => {
  let sink: SmtpSink;
  let mailbox: Mailbox;
  let dep: ChaosDeployment;

  beforeAll(async () => {
    sink = await startSmtpSink();
    mailbox = watchMailbox(sink);
    dep = createChaosDeployment({ HERALD_SHUTDOWN_GRACE_MS: String(GRACE_MS) });
  });
  afterAll(async () => {
    await dep?.destroy();
    await sink?.close();
  });

  it('exits 0 within the grace time with nothing unacked, and nothing is lost', async () => {
    const total = chaosSizes.drainEnvelopes;
    const h = await dep.start();
    await dep.setUp(h, sink);
    const ids = Array.from({ length: total }, (_, i) => `drain-${i}`);
    await publishAll(
      await dep.publisher(),
      ids.map((id, i) => chaosEnvelope(id, i)),
    );
    await waitUntil(async () => (await finishedCount(dep.db, ids)) >= total * 0.3, 120_000, '30 % finished');

    const before = await finishedCount(dep.db, ids);
    const t0 = Date.now();
    h.kill('SIGTERM');
    const exit = await h.exited;
    const exitMs = exit.at - t0;
    expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });
    expect(exitMs).toBeLessThan(GRACE_MS);

    // What it took it finished and acked: every envelope is either finished in the database or still
    // waiting in a queue, never both (a finished but unacked one would be back in the queue) and never
    // neither (an acked but unfinished one would be lost). No send is left claimed mid-flight.
    const finishedAtExit = await finishedCount(dep.db, ids);
    const queues = await settledWorkQueueTotals(dep.prefix);
    const claimed = await dep.db.query(`SELECT 1 FROM "Delivery" WHERE status = 'sending'`);
    expect(queues.unacked).toBe(0);
    expect(claimed.rowCount).toBe(0);
    expect(queues.ready + finishedAtExit).toBe(total);

    await dep.start();
    await waitUntil(
      async () => (await finishedCount(dep.db, ids)) === total,
      180_000,
      'every envelope finished',
    );
    const c = await classify(dep.db, ids, mailbox);
    reportScenario('sigterm-drain', {
      ...c,
      extra: {
        exitCode: exit.code ?? -1,
        exitMs,
        graceMs: GRACE_MS,
        finishedBeforeSigterm: before,
        drainedDuringShutdown: finishedAtExit - before,
        leftQueued: queues.ready,
        unackedAtExit: queues.unacked,
      },
    });
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
