import WebSocket from 'ws';
import { signUserToken } from '../../src/auth/userToken';
import { JWT_SECRET } from '../../test/support/testHerald';
import type { BenchDeployment } from '../lib/deployment';
import { prefillInbox } from '../lib/prefill';
import type { ScenarioResult } from '../lib/report';
import { percentile, round } from '../lib/stats';

const SAMPLES = 20;

/** Milliseconds from the socket's open to its `hello` frame. */
function timeHello(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    let opened = 0;
    ws.once('open', () => {
      opened = performance.now();
    });
    ws.once('message', (data) => {
      const frame = JSON.parse(data.toString()) as { type: string };
      ws.terminate();
      if (frame.type === 'hello') resolve(performance.now() - opened);
      else reject(new Error(`first frame was ${frame.type}`));
    });
    ws.once('error', reject);
  });
}

/**
 * hello-N: the time a socket waits for its `hello` when its user holds N inbox items (half unread); the
 * curve should be flat. Baseline: the same user shape with 10 items, in the same run.
 */
export async function runHelloCurve(
  bench: BenchDeployment,
  o: { sizes: number[]; runId: string },
): Promise<ScenarioResult[]> {
  const h = await bench.start('api,gateway');
  try {
    const medians: Array<{ items: number; p50: number; p95: number }> = [];
    for (const items of o.sizes) {
      const userId = `bench-hello-${o.runId}-${items}`;
      await prefillInbox(bench.db, userId, items);
      const url = `${h.wsBase}/v1/ws?token=${encodeURIComponent(signUserToken(JWT_SECRET, userId, 600))}`;
      await timeHello(url); // warm the plan cache and the connection pool
      const samples: number[] = [];
      for (let i = 0; i < SAMPLES; i += 1) samples.push(await timeHello(url));
      medians.push({ items, p50: percentile(samples, 50), p95: percentile(samples, 95) });
    }
    const base = medians[0]?.p50 ?? 0;
    return medians.map((m) => ({
      name: `hello-${m.items}`,
      figure: round(m.p50, 2),
      unit: 'ms (p50)',
      baseline: round(base, 2),
      ratio: round(m.p50 / base, 2),
      target: 'flat: <= 1.5x of 10 items',
      met: m.p50 <= base * 1.5,
      p95: round(m.p95, 2),
      items: m.items,
    }));
  } finally {
    await h.stop();
  }
}
