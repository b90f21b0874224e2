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
import { waitUntil } from './support/waitUntil';
import { classify, watchMailbox, type Mailbox } from './support/ledger';
import { reportScenario } from './support/results';

describeWith(['postgres', 'rabbitmq'], 'chaos 1: kill -9 mid-burst', () => {
  let sink: SmtpSink;
  let mailbox: Mailbox;
  let dep: ChaosDeployment;

  beforeAll(async () => {
    sink = await startSmtpSink();
    mailbox = watchMailbox(sink);
    dep = createChaosDeployment({ HERALD_RETRY_DELAYS: '1s,2s,4s,8s' });
  });
  afterAll(async () => {
    await dep?.destroy();
    await sink?.close();
  });

  it('completes every envelope after repeated SIGKILLs; nothing recorded as sent is sent again', async () => {
    const { killEnvelopes: total, kills } = chaosSizes;
    let h = await dep.start();
    await dep.setUp(h, sink);
    const ids = Array.from({ length: total }, (_, i) => `kill-${i}`);
    const publisher = await dep.publisher();
    const publishing = publishAll(
      publisher,
      ids.map((id, i) => chaosEnvelope(id, i)),
      { concurrency: 20 },
    );

    const restartMs: number[] = [];
    const killedAt: number[] = [];
    for (let k = 1; k <= kills; k++) {
      // Spread the kills over the burst: each one lands while envelopes are being sent.
      const threshold = Math.floor((total * k) / (kills + 1));
      await waitUntil(
        async () => (await finishedCount(dep.db, ids)) >= threshold,
        180_000,
        `${threshold} finished`,
      );
      killedAt.push(await finishedCount(dep.db, ids));
      h.kill('SIGKILL');
      const exit = await h.exited;
      expect(exit.signal).toBe('SIGKILL');
      const t0 = Date.now();
      h = await dep.start();
      restartMs.push(Date.now() - t0);
    }
    await publishing;

    // A send claimed at a kill waits out its lease (60 s) before it is sent again: allow a few minutes.
    await waitUntil(
      async () => (await finishedCount(dep.db, ids)) === total,
      300_000,
      'every envelope finished',
    );
    await sink.waitForMessages(total, 30_000).catch(() => undefined);
    const c = await classify(dep.db, ids, mailbox);
    reportScenario('kill-9', {
      ...c,
      extra: {
        kills,
        killedAtFinished: killedAt,
        restartReadyMs: restartMs,
        mails: mailbox.total(),
      },
    });
    expect(h.isRunning()).toBe(true);
    expect(c.problems).toEqual([]);
    expect(c).toMatchObject({ total, completed: total, lost: 0, duplicated: 0, deadLettered: 0 });
  });
});
