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
import { classify, watchMailbox } from './support/ledger';
import { createOwnPostgres, type OwnPostgres } from './support/ownPostgres';
import { holdSocket, type ResilientSocket } from './support/resilientSocket';
import { reportScenario } from './support/results';
import { waitUntil } from './support/waitUntil';

const OUTAGE_MS = 5000;

describeWith(['rabbitmq'], 'chaos 10: PostgreSQL restarted while sockets receive items', () => {
  let pg: OwnPostgres | undefined;
  let dep: ChaosDeployment;
  let sink: SmtpSink;
  const sockets: ResilientSocket[] = [];

  beforeAll(async () => {
    pg = await createOwnPostgres();
    sink = await startSmtpSink();
    dep = createChaosDeployment({ DATABASE_URL: pg.url, HERALD_RETRY_DELAYS: '1s,2s,4s,8s' });
  }, 120_000);
  afterAll(async () => {
    for (const s of sockets) s.close();
    await pg?.start().catch(() => undefined);
    await dep?.destroy().catch(() => undefined);
    await sink?.close();
    await pg?.drop();
  }, 120_000);

  it('no socket misses an item after the restart', async () => {
    const { pgSockets, pgItems: total } = chaosSizes;
    const h = await dep.start();
    await dep.setUp(h, sink);
    for (let u = 0; u < pgSockets; u++)
      sockets.push(holdSocket(() => [h.baseUrl], `p-${u}`, signUserToken(JWT_SECRET, `p-${u}`, 3600)));
    await waitUntil(async () => sockets.every((s) => s.open()), 120_000, 'every socket open');

    const ids = Array.from({ length: total }, (_, i) => `pgr-${i}`);
    const envelopes = ids.map((id, i) => ({
      ...chaosEnvelope(id, i),
      to: [{ userId: `p-${i % pgSockets}` }],
      channels: ['im' as const],
    }));
    const publishing = publishAll(await dep.publisher(), envelopes, { concurrency: 10, paceMs: 10 });
    await waitUntil(async () => (await finishedCount(dep.db, ids)) >= total / 3, 300_000, 'a third finished');

    const stoppedAt = Date.now();
    await (pg as OwnPostgres).stop();
    await new Promise((r) => setTimeout(r, OUTAGE_MS));
    await (pg as OwnPostgres).start();
    const upAt = Date.now();
    await publishing;
    await waitUntil(
      async () => (await finishedCount(dep.db, ids)) === total,
      600_000,
      'every envelope finished',
    );

    const { rows } = await dep.db.query<{ userId: string; seq: string }>(
      `SELECT i."userId", i.seq FROM "InboxItem" i JOIN "Delivery" d ON d.id = i."deliveryId"
        WHERE d."messageId" = ANY($1)`,
      [ids],
    );
    const byUser = new Map(sockets.map((s) => [s.userId, s]));
    const missing = () => rows.filter((r) => !byUser.get(r.userId)?.seqs.has(Number(r.seq)));
    await waitUntil(async () => missing().length === 0, 60_000, 'every socket holding every item').catch(
      () => undefined,
    );
    const notOnSocket = missing();
    const c = await classify(dep.db, ids, watchMailbox(sink));
    reportScenario('postgres-restart-sockets', {
      ...c,
      extra: {
        sockets: sockets.length,
        outageMs: upAt - stoppedAt,
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
