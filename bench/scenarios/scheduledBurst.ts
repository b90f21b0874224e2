import type { EnvelopeInput } from '../../src/contract/envelope';
import { JWT_SECRET } from '../../test/support/testHerald';
import type { Child } from '../lib/childRpc';
import { waitForPipeline, type BenchDeployment } from '../lib/deployment';
import type { ScenarioResult } from '../lib/report';
import { expectCount, round, waitUntil } from '../lib/stats';
import { sqlStatements, takeSqlProfile } from '../lib/sqlCount';

/**
 * scheduled-burst: envelopes all scheduled for the same second (sendAt), held as scheduler rows by a
 * consumer; the figure runs from that second to the last attempt row or frame, every one counted, against
 * dispatch-im-1 of the same run (issue 14: >= 0.8x). None may be sent before its second.
 */
export async function runScheduledBurst(
  bench: BenchDeployment,
  clients: Child,
  o: { envelopes: number; users: number; runId: string; leadMs: number; baseline: number | null },
): Promise<ScenarioResult> {
  const code = `bench_scheduled_burst_${o.runId}`;
  const users = Array.from({ length: o.users }, (_, i) => `${code}-u${i}`);
  const edge = await bench.start('api,gateway');
  const worker = await bench.start('consumer');
  try {
    await bench.api(edge).createTemplate({
      code,
      name: 'Bench scheduled IM',
      variables: { orderNo: 'string' },
      channels: { im: { title: 'Order {{ orderNo }}', body: '{{ orderNo }} due', category: 'orders' } },
    });
    await clients.call('connect', {
      wsBase: `${edge.wsBase}/v1/ws`,
      secret: JWT_SECRET,
      users,
      concurrency: 50,
    });
    await clients.call('reset');
    const dueAt = Math.ceil((Date.now() + o.leadMs) / 1000) * 1000;
    const sendAt = new Date(dueAt).toISOString();
    const envelopes: EnvelopeInput[] = Array.from({ length: o.envelopes }, (_, i) => ({
      id: `${code}-${i}`,
      template: code,
      to: [{ userId: users[i % o.users] as string }],
      data: { orderNo: String(100_000 + i) },
      sendAt,
      meta: { source: 'bench' },
    }));
    await bench.publishAll(envelopes);
    const scheduled = async () =>
      Number(
        (
          await bench.db.sql.query<{ n: string }>(
            `SELECT count(*)::text AS n FROM "Message" WHERE "templateCode" = $1 AND status = 'scheduled'`,
            [code],
          )
        ).rows[0]?.n ?? 0,
      );
    let held = 0;
    await waitUntil(async () => ((held = await scheduled()) === o.envelopes ? true : undefined), {
      timeoutMs: Math.max(0, dueAt - Date.now()),
      everyMs: 500,
      describe: () => `only ${held}/${o.envelopes} held before their second: give the scenario more lead`,
    });
    const heldBy = dueAt - Date.now();
    takeSqlProfile();
    const cpuBefore = process.cpuUsage();
    const sqlBefore = sqlStatements();
    type SocketCounts = { distinctItems: number; lastFrameAt: number; open: number };
    const { counts, outside: sockets } = await waitForPipeline(bench.db, code, {
      outside: () => clients.call<SocketCounts>('counts'),
      arrived: (s) => s.distinctItems >= o.envelopes,
      done: (c, s) => c.completed === o.envelopes && s.distinctItems >= o.envelopes,
      timeoutMs: Math.max(60_000, o.envelopes * 5),
      describe: (c, s) =>
        `scheduled-burst: ${c.completed}/${o.envelopes} completed, ${s.distinctItems} pushed`,
    });
    const cpu = process.cpuUsage(cpuBefore);
    const sqlPerEnvelope = (sqlStatements() - sqlBefore) / o.envelopes;
    const profile = takeSqlProfile();
    if (profile) console.log(`\n${profile}`);
    expectCount('scheduled-burst: sent attempt rows', counts.sentAttempts, o.envelopes);
    expectCount('scheduled-burst: distinct items pushed to sockets', sockets.distinctItems, o.envelopes);
    const { rows } = await bench.db.sql.query<{ first: string }>(
      `SELECT extract(epoch FROM min(a."createdAt")) * 1000 AS first FROM "DeliveryAttempt" a
         JOIN "Delivery" d ON d.id = a."deliveryId" WHERE d."templateCode" = $1`,
      [code],
    );
    const firstSentAt = Number(rows[0]?.first ?? 0);
    if (firstSentAt < dueAt) throw new Error(`a message was sent ${dueAt - firstSentAt} ms before its time`);
    const seconds = (Math.max(counts.lastAttemptAt, sockets.lastFrameAt) - dueAt) / 1000;
    const figure = o.envelopes / seconds;
    const ratio = o.baseline ? figure / o.baseline : null;
    return {
      name: 'scheduled-burst',
      figure: round(figure),
      unit: 'envelopes/s',
      baseline: o.baseline,
      baselineUnit: 'envelopes/s of dispatch-im-1 in this run',
      ratio: ratio === null ? null : round(ratio, 3),
      target: '>= 0.8x of dispatch-im-1',
      met: ratio !== null && ratio >= 0.8,
      envelopes: o.envelopes,
      seconds: round(seconds, 2),
      heldWithMsToSpare: heldBy,
      cpuUsPerEnvelope: round((cpu.user + cpu.system) / o.envelopes),
      sqlPerEnvelope: round(sqlPerEnvelope, 2),
      firstSendAfterDueMs: firstSentAt - dueAt,
    };
  } finally {
    await clients.call('closeAll');
    await worker.stop();
    await edge.stop();
  }
}
