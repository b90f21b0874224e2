import type { Child } from '../lib/childRpc';
import type { BenchDeployment } from '../lib/deployment';
import type { ScenarioResult } from '../lib/report';
import { expectCount, percentile, round, waitUntil } from '../lib/stats';
import { AMQP_URL } from '../lib/services';
import { JWT_SECRET } from '../../test/support/testHerald';

interface SocketCounts {
  messageFrames: number;
  distinctItems: number;
  open: number;
}

/**
 * latency-<rate>: one Herald (every role) with sockets open; the client process publishes with the SDK
 * at a steady rate and times each envelope to its WebSocket frame on the same clock. Baseline: the same
 * publish to a quorum queue → a bare consumer's receive.
 */
export async function runLatency(
  bench: BenchDeployment,
  clients: Child,
  o: { rate: number; warmupMs: number; durationMs: number; users: number; runId: string },
): Promise<ScenarioResult> {
  const name = `latency-${o.rate}`;
  const code = `bench_lat_${o.rate}_${o.runId}`;
  const users = Array.from({ length: o.users }, (_, i) => `${code}-u${i}`);
  const h = await bench.start('api,consumer,gateway');
  try {
    await bench.api(h).createTemplate({
      code,
      name: 'Bench latency',
      variables: { sentAt: 'string', phase: 'string' },
      channels: { im: { title: '{{ phase }}', body: '{{ sentAt }}' } },
    });
    await clients.call('connect', {
      wsBase: `${h.wsBase}/v1/ws`,
      secret: JWT_SECRET,
      users,
      concurrency: 50,
    });
    const publish = (phase: string, durationMs: number) =>
      clients.call<{ published: number }>(
        'publishSteady',
        {
          amqpUrl: AMQP_URL,
          prefix: bench.dep.prefix,
          template: code,
          users,
          rate: o.rate,
          durationMs,
          runId: `${code}-${phase}`,
          phase,
        },
        durationMs + 60_000,
      );
    const arrived = async (n: number) =>
      waitUntil(
        async () => {
          const c = await clients.call<SocketCounts>('counts');
          return c.distinctItems >= n ? c : undefined;
        },
        {
          timeoutMs: 30_000 + n * 10,
          describe: async () => `${name}: ${JSON.stringify(await clients.call('counts'))} of ${n}`,
        },
      );

    await clients.call('reset', { title: 'warm' });
    const warm = await publish('warm', o.warmupMs);
    await arrived(warm.published);
    await clients.call('reset', { title: 'run' });

    const run = await publish('run', o.durationMs);
    const c = await arrived(run.published);
    expectCount(`${name}: distinct items pushed`, c.distinctItems, run.published);
    expectCount(`${name}: sockets still open`, c.open, o.users);
    const lat = await clients.call<number[]>('takeLatencies');
    expectCount(`${name}: latency samples`, lat.length, c.messageFrames);

    const raw = await clients.call<{ latencies: number[]; published: number; received: number }>(
      'rawLatency',
      {
        amqpUrl: AMQP_URL,
        queue: `${bench.dep.prefix}bench.raw-latency`,
        rate: o.rate,
        durationMs: o.durationMs,
      },
      o.durationMs + 60_000,
    );
    expectCount(`${name}: raw consumer received`, raw.received, raw.published);
    const p99 = percentile(lat, 99);
    const rawP99 = percentile(raw.latencies, 99);
    return {
      name,
      figure: round(p99, 1),
      unit: 'ms p99',
      baseline: round(rawP99, 1),
      ratio: round(p99 / rawP99, 2),
      p50: round(percentile(lat, 50), 1),
      p95: round(percentile(lat, 95), 1),
      p99: round(p99, 1),
      max: round(Math.max(...lat), 1),
      baselineP50: round(percentile(raw.latencies, 50), 1),
      baselineP95: round(percentile(raw.latencies, 95), 1),
      rate: o.rate,
      envelopes: run.published,
      seconds: o.durationMs / 1000,
      ...(o.rate === 1000 ? { target: 'p99 <= 50 ms', met: p99 <= 50 } : {}),
    };
  } finally {
    await clients.call('closeAll');
    await h.stop();
  }
}
