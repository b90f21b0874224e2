import type { EnvelopeInput } from '../../src/contract/envelope';
import type { Child } from '../lib/childRpc';
import { waitForPipeline, type BenchDeployment } from '../lib/deployment';
import type { ScenarioResult } from '../lib/report';
import { round, expectCount } from '../lib/stats';
import { JWT_SECRET } from '../../test/support/testHerald';
import { rawConsumeRate } from './rawConsume';
import { sqlStatements, takeSqlProfile } from '../lib/sqlCount';

interface SocketCounts {
  messageFrames: number;
  distinctItems: number;
  lastFrameAt: number;
  open: number;
  closedEarly: number;
}

/**
 * dispatch-im-1 / dispatch-im-10: envelopes queued first, then a consumer instance starts; the figure
 * runs from the first message accepted to the last attempt row written or frame received, whichever is
 * later, and every attempt row and pushed frame is counted.
 */
export async function runDispatch(
  bench: BenchDeployment,
  clients: Child,
  o: {
    name: string;
    envelopes: number;
    recipients: number;
    users: number;
    runId: string;
    /** Extra environment of the consumer instance (dispatch-im-1-purging turns retention on). */
    workerEnv?: Record<string, string>;
  },
): Promise<ScenarioResult> {
  const code = `bench_${o.name.replace(/-/g, '_')}_${o.runId}`;
  // A message has one delivery per channel and user, so an envelope's recipients must be distinct users:
  // at least as many sockets as recipients per envelope.
  const userCount = Math.max(o.users, o.recipients);
  const users = Array.from({ length: userCount }, (_, i) => `${code}-u${i}`);
  const edge = await bench.start('api,gateway');
  let worker: Awaited<ReturnType<BenchDeployment['start']>> | undefined;
  try {
    await bench.api(edge).createTemplate({
      code,
      name: 'Bench IM',
      variables: { orderNo: 'string' },
      channels: { im: { title: 'Order {{ orderNo }}', body: '{{ orderNo }} shipped', category: 'orders' } },
    });
    await clients.call('connect', {
      wsBase: `${edge.wsBase}/v1/ws`,
      secret: JWT_SECRET,
      users,
      concurrency: 50,
    });
    await clients.call('reset');

    const envelopes: EnvelopeInput[] = Array.from({ length: o.envelopes }, (_, i) => ({
      id: `${code}-${i}`,
      template: code,
      to: Array.from({ length: o.recipients }, (_, r) => ({
        userId: users[(i * o.recipients + r) % userCount] as string,
      })),
      data: { orderNo: String(100_000 + i) },
      meta: { source: 'bench' },
    }));
    await bench.declareTopology();
    await bench.publishAll(envelopes);

    const expected = o.envelopes * o.recipients;
    // This process hosts every Herald instance of the scenario (the socket clients run in a child), so
    // its CPU time from here to the last frame is Herald's consumer and gateway work: a figure that a
    // busy machine moves far less than the wall-clock rate.
    const cpuBefore = process.cpuUsage();
    const sqlBefore = sqlStatements();
    takeSqlProfile();
    worker = await bench.start('consumer', o.workerEnv);
    const timeoutMs = Math.max(60_000, expected * 5);
    const { counts, outside: sockets } = await waitForPipeline(bench.db, code, {
      outside: () => clients.call<SocketCounts>('counts'),
      arrived: (s) => s.distinctItems >= expected,
      done: (c, s) => c.completed === o.envelopes && s.distinctItems >= expected,
      timeoutMs,
      describe: (c, s) =>
        `${o.name}: ${c.messages} messages, ${c.completed}/${o.envelopes} completed, ${c.sentAttempts}/${expected} attempts sent, ${s.distinctItems}/${expected} items pushed`,
    });
    expectCount(`${o.name}: messages`, counts.messages, o.envelopes);
    expectCount(`${o.name}: deliveries`, counts.deliveries, expected);
    expectCount(`${o.name}: sent attempt rows`, counts.sentAttempts, expected);
    expectCount(`${o.name}: failed or retried attempt rows`, counts.otherAttempts, 0);
    expectCount(`${o.name}: distinct items pushed to sockets`, sockets.distinctItems, expected);
    expectCount(`${o.name}: sockets still open`, sockets.open, userCount);

    const cpu = process.cpuUsage(cpuBefore);
    const cpuUsPerDelivery = (cpu.user + cpu.system) / expected;
    const sqlPerDelivery = (sqlStatements() - sqlBefore) / expected;
    const profile = takeSqlProfile();
    if (profile) console.log(`\n${profile}`);
    const end = Math.max(counts.lastAttemptAt, sockets.lastFrameAt);
    const seconds = (end - counts.firstAcceptedAt) / 1000;
    const figure = expected / seconds;
    const envelopesPerSecond = o.envelopes / seconds;

    const bodies = envelopes.map((e) => Buffer.from(JSON.stringify(e)));
    const raw = await rawConsumeRate(`${bench.dep.prefix}bench.raw-consume`, bodies, 200);
    expectCount(`${o.name}: raw consumer received`, raw.received, o.envelopes);
    const ratio = figure / raw.rate;
    const result: ScenarioResult = {
      name: o.name,
      figure: round(figure),
      unit: o.recipients === 1 ? 'envelopes/s' : 'deliveries/s',
      baseline: round(raw.rate),
      ratio: round(ratio, 3),
      envelopes: o.envelopes,
      recipients: o.recipients,
      envelopesPerSecond: round(envelopesPerSecond),
      seconds: round(seconds, 2),
      cpuUsPerDelivery: round(cpuUsPerDelivery),
      sqlPerDelivery: round(sqlPerDelivery, 2),
      attemptRows: counts.sentAttempts,
      framesReceived: sockets.messageFrames,
      duplicateFrames: sockets.messageFrames - sockets.distinctItems,
      sockets: userCount,
      baselineUnit: 'envelopes/s (raw amqplib consume+ack)',
    };
    if (o.recipients === 1) {
      result.target = '>= 5,000/s and >= 0.12x';
      result.met = figure >= 5000 && ratio >= 0.12;
    }
    return result;
  } finally {
    await clients.call('closeAll');
    await worker?.stop();
    await edge.stop();
  }
}
