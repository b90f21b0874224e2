import WebSocket from 'ws';
import { signUserToken } from '../../src/auth/userToken';
import { JWT_SECRET } from '../../test/support/testHerald';
import type { BenchDeployment } from '../lib/deployment';
import { prefillInbox } from '../lib/prefill';
import { createInboxStore } from '../../src/inbox/inboxStore';
import type { InboxFilter } from '../../src/inbox/inboxFilter';
import type { ScenarioResult } from '../lib/report';
import { percentile, round } from '../lib/stats';

const SAMPLES = 20;

/** Declared tabs whose counts every `hello` carries. */
const TABS: Array<[string, InboxFilter]> = [
  ['orders', { category: 'orders' }],
  ['urgent', { severity: ['high', 'critical'] }],
  ['eu', { tags: ['eu'] }],
];

/** Milliseconds from the socket's open to its `hello` frame. */
function timeHello(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    let opened = 0;
    ws.once('open', () => {
      opened = performance.now();
    });
    ws.once('message', (data) => {
      const took = performance.now() - opened;
      const frame = JSON.parse(data.toString()) as { type: string; counts?: { tabs: object } };
      ws.terminate();
      if (frame.type !== 'hello') reject(new Error(`first frame was ${frame.type}`));
      else if (Object.keys(frame.counts?.tabs ?? {}).length !== TABS.length)
        reject(
          new Error(`hello carried the counts of ${JSON.stringify(frame.counts?.tabs)}, not of every tab`),
        );
      else resolve(took);
    });
    ws.once('error', reject);
  });
}

/**
 * hello-N: the time a socket waits for its `hello` when its user holds N inbox items (half unread) and
 * three tabs are declared, whose counts hello carries; the curve should be flat, since hello reads count
 * rows and the newest items, never counts the inbox. Baseline: the same user shape with 10 items.
 */
export async function runHelloCurve(
  bench: BenchDeployment,
  o: { sizes: number[]; runId: string },
): Promise<ScenarioResult[]> {
  const h = await bench.start('api,gateway');
  try {
    const inbox = createInboxStore(bench.db.sql);
    for (const [name, filter] of TABS) await inbox.declareTab(name, filter);
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
