import type { EnvelopeInput } from '../../src/contract/envelope';
import { startChild, type Child } from '../lib/childRpc';
import type { BenchDeployment } from '../lib/deployment';
import { settledRss } from '../lib/memory';
import type { ScenarioResult } from '../lib/report';
import { expectCount, round, waitUntil } from '../lib/stats';
import { JWT_SECRET } from '../../test/support/testHerald';

interface SocketCounts {
  messageFrames: number;
  distinctItems: number;
  lastFrameAt: number;
  open: number;
}

/** Client sockets come from several loopback addresses so 2 × 10,000 connections never run out of ports. */
const LOCAL_ADDRESSES = Array.from({ length: 8 }, (_, i) => `127.0.0.${i + 2}`);

const waitFrames = (clients: Child, n: number, field: 'messageFrames' | 'distinctItems', label: string) =>
  waitUntil(
    async () => {
      const c = await clients.call<SocketCounts>('counts');
      return c[field] >= n ? c : undefined;
    },
    {
      timeoutMs: 120_000,
      describe: async () => `${label}: ${JSON.stringify(await clients.call('counts'))} of ${n}`,
    },
  );

/**
 * connections: RSS per idle socket held by Herald (all roles, this process) against a bare `ws` server
 * (a child process), both measured as the settled RSS growth over the same N sockets; and the time to
 * push one item to each.
 */
export async function runConnections(
  bench: BenchDeployment,
  clients: Child,
  o: { sockets: number; runId: string },
): Promise<ScenarioResult> {
  const code = `bench_conn_${o.runId}`;
  const users = Array.from({ length: o.sockets }, (_, i) => `${code}-u${i}`);
  const connectArgs = { users, concurrency: 100, localAddresses: LOCAL_ADDRESSES };
  const h = await bench.start('api,consumer,gateway');
  let herald: { perSocket: number; connectMs: number; pushMs: number };
  try {
    await bench.api(h).createTemplate({
      code,
      name: 'Bench connections',
      variables: { n: 'number' },
      channels: { im: { title: 'Hello', body: 'item {{ n }}' } },
    });
    await bench.declareTopology();
    const before = await settledRss();
    const conn = await clients.call<{ connected: number; ms: number }>(
      'connect',
      { ...connectArgs, wsBase: `${h.wsBase}/v1/ws`, secret: JWT_SECRET },
      300_000,
    );
    expectCount('connections: sockets connected to Herald', conn.connected, o.sockets);
    const after = await settledRss();
    await clients.call('reset');

    const envelopes: EnvelopeInput[] = [];
    for (let i = 0; i < users.length; i += 1000)
      envelopes.push({
        id: `${code}-push-${i}`,
        template: code,
        to: users.slice(i, i + 1000).map((userId) => ({ userId })),
        data: { n: i },
      });
    const t0 = Date.now();
    await bench.publishAll(envelopes);
    const pushed = await waitFrames(clients, o.sockets, 'distinctItems', 'connections push');
    expectCount('connections: items pushed', pushed.distinctItems, o.sockets);
    expectCount('connections: sockets still open', pushed.open, o.sockets);
    herald = { perSocket: (after - before) / o.sockets, connectMs: conn.ms, pushMs: pushed.lastFrameAt - t0 };
  } finally {
    await clients.call('closeAll');
    await h.stop();
  }

  const bare = await startChild('bareWsServer');
  let baseline: { perSocket: number; pushMs: number };
  try {
    const { port } = await bare.call<{ port: number }>('listen');
    const conn = await clients.call<{ connected: number }>(
      'connect',
      { ...connectArgs, wsBase: `ws://127.0.0.1:${port}/` },
      300_000,
    );
    expectCount('connections: sockets connected to the bare ws server', conn.connected, o.sockets);
    const m = await bare.call<{ held: number; rss: number; rssBefore: number }>('measure');
    expectCount('connections: sockets held by the bare ws server', m.held, o.sockets);
    await clients.call('reset');
    const t0 = Date.now();
    await bare.call('pushToAll');
    const pushed = await waitFrames(clients, o.sockets, 'messageFrames', 'bare push');
    expectCount('connections: frames from the bare ws server', pushed.messageFrames, o.sockets);
    baseline = { perSocket: (m.rss - m.rssBefore) / o.sockets, pushMs: pushed.lastFrameAt - t0 };
  } finally {
    await clients.call('closeAll');
    await bare.call('close').catch(() => undefined);
    await bare.stop();
  }

  const ratio = herald.perSocket / baseline.perSocket;
  return {
    name: 'connections',
    figure: round(herald.perSocket),
    unit: 'bytes/socket',
    baseline: round(baseline.perSocket),
    ratio: round(ratio, 2),
    target: '<= 2x',
    met: ratio <= 2,
    sockets: o.sockets,
    connectMs: round(herald.connectMs),
    pushToAllMs: round(herald.pushMs),
    baselinePushToAllMs: round(baseline.pushMs),
    // A few hundred sockets grow RSS by less than a collection moves it: only the full run's figure counts.
    ...(o.sockets < 5000 ? { note: 'too few sockets for a meaningful RSS figure; see the full run' } : {}),
  };
}
