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
import { canControlServices, postgres, settledWorkQueueTotals, type QueueCounts } from './support/infra';
import { classify, watchMailbox, type Mailbox } from './support/ledger';
import { reportScenario } from './support/results';
import { waitUntil } from './support/waitUntil';

// Stops the machine's PostgreSQL: every other suite running meanwhile fails. Always started again.
describeWith(['postgres', 'rabbitmq'], 'chaos 3: database outage', () => {
  let sink: SmtpSink;
  let mailbox: Mailbox;
  let dep: ChaosDeployment;
  let control = false;

  beforeAll(async () => {
    control = (await canControlServices()).postgres;
    sink = await startSmtpSink();
    mailbox = watchMailbox(sink);
    dep = createChaosDeployment();
  });
  afterAll(async () => {
    await postgres.ensureUp();
    await dep?.destroy();
    await sink?.close();
  });

  it('acks nothing while PostgreSQL is down, says not ready, and completes everything after', async () => {
    if (!control) throw new Error('pg_ctlcluster cannot control the local PostgreSQL (set CHAOS_PG_CLUSTER)');
    const { dbEnvelopes: total, dbOutageMs } = chaosSizes;
    const h = await dep.start();
    await dep.setUp(h, sink);
    const ids = Array.from({ length: total }, (_, i) => `db-${i}`);
    await publishAll(
      await dep.publisher(),
      ids.map((id, i) => chaosEnvelope(id, i)),
    );
    await waitUntil(async () => (await finishedCount(dep.db, ids)) >= total * 0.25, 120_000, '25 % finished');

    const readiness: number[] = [];
    let held: QueueCounts;
    let heldAtEnd: QueueCounts;
    const downAt = Date.now();
    await postgres.stop();
    try {
      const probe = setInterval(() => void h.ready().then((s) => readiness.push(s)), 500);
      // Queue statistics refresh every 5 s: the first settled reading is taken well into the outage.
      held = await settledWorkQueueTotals(dep.prefix);
      await new Promise((r) => setTimeout(r, Math.max(0, downAt + dbOutageMs - 6500 - Date.now())));
      heldAtEnd = await settledWorkQueueTotals(dep.prefix, 0);
      await new Promise((r) => setTimeout(r, Math.max(0, downAt + dbOutageMs - Date.now())));
      clearInterval(probe);
    } finally {
      await postgres.start();
    }
    const upAt = Date.now();
    await waitUntil(async () => (await h.ready()) === 200, 60_000, '/ready after PostgreSQL is back').catch(
      (err: Error) => {
        throw new Error(`${err.message}\n/ready: ${h.lastReady()}\nherald output:\n${h.output()}`);
      },
    );
    const readyAgainMs = Date.now() - upAt;

    await waitUntil(
      async () => (await finishedCount(dep.db, ids)) === total,
      300_000,
      'every envelope finished',
    );
    const c = await classify(dep.db, ids, mailbox);
    reportScenario('database-outage', {
      ...c,
      extra: {
        outageMs: upAt - downAt,
        heldInQueues: held.ready + held.unacked,
        unackedWhileDown: held.unacked,
        heldAtEndOfOutage: heldAtEnd.ready + heldAtEnd.unacked,
        readySamplesWhileDown: readiness.length,
        readySamples200WhileDown: readiness.filter((s) => s === 200).length,
        readyAgainMs,
      },
    });

    expect(h.isRunning()).toBe(true);
    // Nothing acked while it was down: the envelopes in the queues stayed put, some held by the consumer.
    expect(held.ready + held.unacked).toBeGreaterThan(0);
    expect(held.unacked).toBeGreaterThan(0);
    expect(heldAtEnd).toEqual(held);
    expect(readiness.length).toBeGreaterThan(0);
    expect(readiness.filter((s) => s === 200)).toEqual([]);
    expect(c.problems).toEqual([]);
    // Sends that went out while it was down had their outcome held and written afterwards: none repeats.
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
