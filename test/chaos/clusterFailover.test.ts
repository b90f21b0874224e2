import { signUserToken } from '../../src/auth/userToken';
import { startSmtpSink, type SmtpSink } from '../senders/support/smtpSink';
import { describeWith } from '../support/services';
import {
  chaosEnvelope,
  createChaosDeployment,
  finishedCount,
  JWT_SECRET,
  publishAll,
  type ChaosDeployment,
} from './support/chaosDeployment';
import { chaosSizes } from './support/chaosMode';
import type { HeraldProcess } from './support/heraldProcess';
import { classify, watchMailbox, type Mailbox } from './support/ledger';
import { rabbitCluster } from './support/rabbitCluster';
import { holdSocket, type ResilientSocket } from './support/resilientSocket';
import { reportScenario } from './support/results';
import { waitUntil } from './support/waitUntil';

/** Users of chaosEnvelope (u-0 … u-96). */
const USERS = 97;
const RETRIES = { HERALD_RETRY_DELAYS: '1s,2s,4s,8s' };

/** Samples the finished count every `everyMs` from now on; the longest stretch without progress. */
function watchProgress(dep: ChaosDeployment, ids: readonly string[], everyMs = 100) {
  const samples: Array<{ at: number; n: number }> = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      samples.push({ at: Date.now(), n: await finishedCount(dep.db, ids).catch(() => -1) });
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    /** Longest time within [from, to] in which the count did not grow (while not yet all done). */
    longestStall(from: number, to: number): number {
      let longest = 0;
      let since = from;
      let last = -1;
      for (const s of samples) {
        if (s.at < from || s.at > to || s.n < 0) continue;
        if (s.n === ids.length) break;
        if (s.n > last) {
          if (last >= 0) longest = Math.max(longest, s.at - since);
          since = s.at;
          last = s.n;
        }
      }
      return longest;
    },
    countAt(t: number): number {
      let n = 0;
      for (const s of samples) if (s.at <= t && s.n >= 0) n = s.n;
      return n;
    },
    async stop() {
      stopped = true;
      await loop;
    },
  };
}

/**
 * The scenarios of a RabbitMQ cluster: three nodes of the installed RabbitMQ started by
 * scripts/rabbitmq-cluster.sh (ports 5681-5683, never the machine's broker on 5672), Herald and the
 * SDK given all three URLs. The suite starts the cluster when it is not running and then stops it.
 */
describeWith(['postgres'], 'chaos 9: Herald on a three-node RabbitMQ cluster', () => {
  let startedCluster = false;
  let urls: string[] = [];
  let sink: SmtpSink;
  let mailbox: Mailbox;
  const deps: ChaosDeployment[] = [];
  const sockets: ResilientSocket[] = [];

  const deployment = (env: Record<string, string> = {}) => {
    const dep = createChaosDeployment({ AMQP_URL: urls.join(','), ...RETRIES, ...env });
    deps.push(dep);
    return dep;
  };

  beforeAll(async () => {
    startedCluster = await rabbitCluster.start();
    urls = await rabbitCluster.urls();
    sink = await startSmtpSink();
    mailbox = watchMailbox(sink);
  }, 600_000);
  afterAll(async () => {
    for (const s of sockets) s.close();
    for (const d of deps) await d.destroy().catch(() => undefined);
    await sink?.close();
    if (startedCluster) await rabbitCluster.stop();
  }, 600_000);

  /** Brings every node back (after a scenario killed or stopped one) before the next scenario. */
  async function wholeCluster(dep: ChaosDeployment): Promise<void> {
    for (const n of [1, 2, 3]) await rabbitCluster.startNode(n);
    await waitUntil(
      async () => (await rabbitCluster.queueInfo(dep.names.dispatch)).online.length === 3,
      180_000,
      'all three replicas online',
      1000,
    );
  }

  it('SIGKILL of the node leading herald.dispatch mid-burst: nothing lost, consuming resumes', async () => {
    const total = chaosSizes.clusterEnvelopes;
    const mailsBefore = mailbox.total();
    const dep = deployment();
    const h = await dep.start();
    await dep.setUp(h, sink);
    const before = await rabbitCluster.queueInfo(dep.names.dispatch);
    // A quorum queue with a replica on every node (the topology sets no group size: all nodes).
    expect([...before.members].sort()).toEqual([1, 2, 3]);

    const ids = Array.from({ length: total }, (_, i) => `leader-${i}`);
    const failures: string[] = [];
    const publishing = publishAll(
      await dep.publisher(),
      ids.map((id, i) => chaosEnvelope(id, i)),
      {
        concurrency: 10,
        paceMs: 5,
        onFailure: (err) => failures.push((err as { code?: string }).code ?? ''),
      },
    );
    const progress = watchProgress(dep, ids);
    await waitUntil(async () => (await finishedCount(dep.db, ids)) >= total / 3, 300_000, 'a third finished');

    const killedAt = Date.now();
    await rabbitCluster.kill(before.leader);
    await waitUntil(async () => (await h.ready()) !== 200, 10_000, '/ready to notice', 50).catch(
      () => undefined,
    );
    await waitUntil(async () => (await h.ready()) === 200, 120_000, '/ready again', 100).catch((err) => {
      throw new Error(`${(err as Error).message}; last /ready: ${h.lastReady()}\n${h.output()}`);
    });
    const readyAgainMs = Date.now() - killedAt;
    const atReady = await finishedCount(dep.db, ids);
    await waitUntil(
      async () => (await finishedCount(dep.db, ids)) > atReady,
      120_000,
      'consuming again',
      100,
    );
    const consumingAgainMs = Date.now() - killedAt;

    const { failedAttempts } = await publishing;
    await waitUntil(
      async () => (await finishedCount(dep.db, ids)) === total,
      600_000,
      'every envelope finished',
    );
    await progress.stop();
    const after = await rabbitCluster.queueInfo(dep.names.dispatch, before.leader === 1 ? 2 : 1);
    await waitUntil(async () => mailbox.total() >= mailsBefore + total, 60_000, 'every mail').catch(
      () => undefined,
    );
    const c = await classify(dep.db, ids, mailbox);
    reportScenario('cluster-leader-kill', {
      ...c,
      extra: {
        killedNode: `herald-c${before.leader}`,
        newLeader: `herald-c${after.leader}`,
        readyAgainMs,
        consumingAgainMs,
        longestStallMs: progress.longestStall(killedAt - 5000, Date.now()),
        sdkFailedPublishes: failedAttempts,
        sdkFailureCodes: [...new Set(failures)].join('|'),
      },
    });
    expect(after.leader).not.toBe(before.leader);
    expect(c.problems).toEqual([]);
    expect(c).toMatchObject({ total, completed: total, lost: 0, duplicated: 0, deadLettered: 0 });
    await wholeCluster(dep);
  });

  it('a follower stopped and brought back: nothing lost, consuming goes on meanwhile', async () => {
    const total = chaosSizes.clusterEnvelopes;
    const mailsBefore = mailbox.total();
    const dep = deployment();
    const h = await dep.start();
    await dep.setUp(h, sink);
    const info = await rabbitCluster.queueInfo(dep.names.dispatch);
    // Neither the leader nor node 1, where Herald and the SDK connect first.
    const follower = [3, 2].find((n) => n !== info.leader) as number;

    const ids = Array.from({ length: total }, (_, i) => `follower-${i}`);
    // Paced to last beyond the outage, so consuming is measured while the follower is away.
    const paceMs = Math.ceil((chaosSizes.followerOutageMs * 2 * 10) / total);
    const publishing = publishAll(
      await dep.publisher(),
      ids.map((id, i) => chaosEnvelope(id, i)),
      { concurrency: 10, paceMs },
    );
    const progress = watchProgress(dep, ids);
    await waitUntil(async () => (await finishedCount(dep.db, ids)) >= total / 5, 300_000, 'a fifth finished');

    await rabbitCluster.stopNode(follower);
    const stoppedAt = Date.now();
    await new Promise((r) => setTimeout(r, chaosSizes.followerOutageMs));
    const restartAt = Date.now();
    await rabbitCluster.startNode(follower);
    const backAt = Date.now();

    await publishing;
    await waitUntil(
      async () => (await finishedCount(dep.db, ids)) === total,
      600_000,
      'every envelope finished',
    );
    await progress.stop();
    await waitUntil(async () => mailbox.total() >= mailsBefore + total, 60_000, 'every mail').catch(
      () => undefined,
    );
    const c = await classify(dep.db, ids, mailbox);
    const duringOutage = progress.countAt(restartAt) - progress.countAt(stoppedAt);
    reportScenario('cluster-follower-stop', {
      ...c,
      extra: {
        stoppedNode: `herald-c${follower}`,
        outageMs: restartAt - stoppedAt,
        nodeRestartMs: backAt - restartAt,
        finishedDuringOutage: duringOutage,
        longestStallDuringOutageMs: progress.longestStall(stoppedAt, restartAt),
        longestStallBeforeMs: progress.longestStall(stoppedAt - 10_000, stoppedAt),
      },
    });
    expect(h.isRunning()).toBe(true);
    expect(duringOutage).toBeGreaterThan(0);
    expect(c.problems).toEqual([]);
    expect(c).toMatchObject({ total, completed: total, lost: 0, duplicated: 0, deadLettered: 0 });
    await wholeCluster(dep);
  });

  it('two consumers, two gateways, one api; one consumer and one gateway SIGKILLed mid-burst', async () => {
    const total = chaosSizes.clusterEnvelopes;
    const mailsBefore = mailbox.total();
    const dep = deployment();
    const api = await dep.start({ HERALD_ROLES: 'api' });
    const consumers = [
      await dep.start({ HERALD_ROLES: 'consumer' }),
      await dep.start({ HERALD_ROLES: 'consumer' }),
    ];
    const gateways: HeraldProcess[] = [
      await dep.start({ HERALD_ROLES: 'gateway' }),
      await dep.start({ HERALD_ROLES: 'gateway' }),
    ];
    await dep.setUp(api, sink);
    const live = () => gateways.filter((g) => g.isRunning()).map((g) => g.baseUrl);
    for (let u = 0; u < USERS; u++)
      sockets.push(holdSocket(live, `u-${u}`, signUserToken(JWT_SECRET, `u-${u}`, 3600), u));
    await waitUntil(async () => sockets.every((s) => s.open()), 60_000, 'every socket open');

    const ids = Array.from({ length: total }, (_, i) => `roles-${i}`);
    const publishing = publishAll(
      await dep.publisher(),
      ids.map((id, i) => chaosEnvelope(id, i)),
      { concurrency: 10, paceMs: 5 },
    );
    await waitUntil(async () => (await finishedCount(dep.db, ids)) >= total / 2, 300_000, 'half finished');
    const [consumer, gateway] = [consumers[0] as HeraldProcess, gateways[0] as HeraldProcess];
    consumer.kill('SIGKILL');
    gateway.kill('SIGKILL');
    expect((await consumer.exited).signal).toBe('SIGKILL');
    expect((await gateway.exited).signal).toBe('SIGKILL');
    await publishing;
    // A send claimed by the killed consumer waits out its lease (60 s) before the other sends it.
    await waitUntil(
      async () => (await finishedCount(dep.db, ids)) === total,
      600_000,
      'every envelope finished',
    );

    // What each user's inbox holds (items of this scenario's envelopes), against what its socket got.
    const { rows } = await dep.db.query<{ userId: string; seq: string }>(
      `SELECT i."userId", i.seq FROM "InboxItem" i JOIN "Delivery" d ON d.id = i."deliveryId"
        WHERE d."messageId" = ANY($1)`,
      [ids],
    );
    const missing = () => {
      const out: string[] = [];
      for (const r of rows) {
        const s = sockets.find((x) => x.userId === r.userId);
        if (!s?.seqs.has(Number(r.seq))) out.push(`${r.userId}#${r.seq}`);
      }
      return out;
    };
    await waitUntil(async () => missing().length === 0, 60_000, 'every socket holding every item').catch(
      () => undefined,
    );
    const notOnSocket = missing();
    await waitUntil(async () => mailbox.total() >= mailsBefore + total, 60_000, 'every mail').catch(
      () => undefined,
    );
    const c = await classify(dep.db, ids, mailbox);
    reportScenario('cluster-roles-kill', {
      ...c,
      extra: {
        processes: 'api + 2 consumers + 2 gateways',
        sockets: sockets.length,
        inboxItems: rows.length,
        itemsMissingOnSockets: notOnSocket.length,
        socketReconnects: sockets.reduce((n, s) => n + s.reconnects(), 0),
      },
    });
    expect(rows.length).toBe(total);
    expect(notOnSocket.slice(0, 20)).toEqual([]);
    expect(c.problems).toEqual([]);
    expect(c).toMatchObject({ total, completed: total, lost: 0, duplicated: 0, deadLettered: 0 });
  });
});
