import fs from 'node:fs';
import { createChaosDeployment } from '../../test/chaos/support/chaosDeployment';
import type { HeraldProcess } from '../../test/chaos/support/heraldProcess';
import { ADMIN_TOKEN } from '../../test/support/testApp';
import { JWT_SECRET } from '../../test/chaos/support/chaosDeployment';
import type { Child } from '../lib/childRpc';
import type { ScenarioResult } from '../lib/report';
import { AMQP_URL } from '../lib/services';
import { expectCount, percentile, round, waitUntil } from '../lib/stats';

/** utime + stime of a process in ms, from /proc (clock ticks of 10 ms). */
function cpuMs(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

async function receivedByBus(h: HeraldProcess): Promise<number> {
  const text = await (await fetch(`${h.baseUrl}/metrics`)).text();
  return Number(/^herald_im_bus_events_received_total (\S+)$/m.exec(text)?.[1] ?? 0);
}

/**
 * Publishes IM envelopes at `rate` for `durationMs` (item title `phase`, so only this phase's frames
 * count), waits until every one reached its socket, and returns the publish → frame percentiles.
 */
async function publishPhase(
  clients: Child,
  prefix: string,
  template: string,
  users: string[],
  rate: number,
  durationMs: number,
  phase: string,
): Promise<{ published: number; p50: number; p99: number }> {
  await clients.call('reset', { title: phase });
  const { published } = await clients.call<{ published: number }>(
    'publishSteady',
    { amqpUrl: AMQP_URL, prefix, template, users, rate, durationMs, runId: `${template}-${phase}`, phase },
    durationMs + 60_000,
  );
  const c = await waitUntil(
    async () => {
      const counts = await clients.call<{ distinctItems: number; open: number }>('counts');
      return counts.distinctItems >= published ? counts : undefined;
    },
    {
      timeoutMs: 60_000,
      describe: async () => `im-fanout ${phase}: ${JSON.stringify(await clients.call('counts'))}`,
    },
  );
  expectCount(`im-fanout ${phase}: items pushed`, c.distinctItems, published);
  expectCount(`im-fanout ${phase}: sockets open`, c.open, users.length);
  const lat = await clients.call<number[]>('takeLatencies');
  return { published, p50: percentile(lat, 50), p99: percentile(lat, 99) };
}

/**
 * im-fanout-<n>: one api + consumer process and n gateway processes (each `herald start` as a child
 * process, so each one's CPU is its own), sockets of `users` users spread evenly over the gateways, IM
 * envelopes published at `rate` per second. Counts, per gateway, the IM events the bus routed to it and
 * the CPU it spent per 1,000 items delivered (less what it spends idle over as long), and the publish
 * → socket latency; the baseline of each
 * figure is the 1-gateway run. With routing by user each of n gateways should receive about 1/n of the
 * events; with the fan-out of earlier versions each received all of them.
 */
export async function runImFanout(
  clients: Child,
  o: {
    gatewayCounts: number[];
    users: number;
    rate: number;
    /** A second phase at this rate, one the dispatch of this machine keeps up with. */
    steadyRate?: number;
    durationMs: number;
    runId: string;
  },
): Promise<ScenarioResult[]> {
  const results: ScenarioResult[] = [];
  let oneGatewayCpu: number | null = null;
  let oneGatewayP99: number | null = null;
  let oneGatewaySteadyP99: number | null = null;
  for (const n of o.gatewayCounts) {
    const dep = createChaosDeployment({ LOG_LEVEL: 'silent', HERALD_WS_MAX_BUFFERED_BYTES: String(4 << 20) });
    const code = `bench_fanout_${n}_${o.runId}`;
    const users = Array.from({ length: o.users }, (_, i) => `${code}-u${i}`);
    try {
      const worker = await dep.start({ HERALD_ROLES: 'api,consumer' });
      const gateways: HeraldProcess[] = [];
      for (let g = 0; g < n; g++) gateways.push(await dep.start({ HERALD_ROLES: 'gateway' }));
      const res = await fetch(`${worker.baseUrl}/v1/templates`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          code,
          name: 'Bench fan-out',
          variables: { sentAt: 'string', phase: 'string' },
          channels: { im: { title: '{{ phase }}', body: '{{ sentAt }}' } },
        }),
      });
      if (res.status !== 201) throw new Error(`template: ${res.status} ${await res.text()}`);
      for (let g = 0; g < n; g++)
        await clients.call('connect', {
          wsBase: `ws://127.0.0.1:${(gateways[g] as HeraldProcess).port}/v1/ws`,
          secret: JWT_SECRET,
          users: users.filter((_, i) => i % n === g),
          concurrency: 50,
        });
      await clients.call('reset', { title: 'run' });
      // What each gateway spends holding its sockets with no traffic, over as long as the run: subtracted.
      const idleStart = gateways.map((g) => cpuMs(g.pid));
      await new Promise((r) => setTimeout(r, o.durationMs));
      const idle = gateways.map((g, i) => cpuMs(g.pid) - (idleStart[i] as number));
      const cpuBefore = gateways.map((g) => cpuMs(g.pid));
      const recvBefore = await Promise.all(gateways.map(receivedByBus));
      const { published, p50, p99 } = await publishPhase(
        clients,
        dep.prefix,
        code,
        users,
        o.rate,
        o.durationMs,
        'run',
      );
      const cpu = gateways.map((g, i) => cpuMs(g.pid) - (cpuBefore[i] as number));
      const received = (await Promise.all(gateways.map(receivedByBus))).map(
        (r, i) => r - (recvBefore[i] as number),
      );
      // At o.rate dispatch itself may lag behind on a small machine, and then its backlog is the p99; at a
      // rate it sustains, the p99 shows what the fan-out adds.
      const steady = o.steadyRate
        ? await publishPhase(clients, dep.prefix, code, users, o.steadyRate, o.durationMs, 'steady')
        : undefined;
      const cpuPer1000 = cpu.map((ms, i) =>
        round((Math.max(0, ms - (idle[i] as number)) * 1000) / published, 1),
      );
      const meanCpu = round(cpuPer1000.reduce((a, b) => a + b, 0) / n, 1);
      const shares = received.map((r) => round(r / published, 3));
      // Each gateway's share within 10 % of 1/n (the must-show for 4 gateways).
      const even = shares.every((s) => Math.abs(s - 1 / n) <= 0.1 / n);
      if (n === 1) {
        oneGatewayCpu = meanCpu;
        oneGatewayP99 = round(p99, 1);
        oneGatewaySteadyP99 = steady ? round(steady.p99, 1) : null;
      }
      results.push({
        name: `im-fanout-${n}`,
        figure: meanCpu,
        unit: 'CPU ms per gateway per 1,000 items (less idle)',
        baseline: oneGatewayCpu,
        ratio: oneGatewayCpu ? round(meanCpu / oneGatewayCpu, 2) : null,
        gateways: n,
        items: published,
        eventsReceivedPerGateway: received,
        sharePerGateway: shares,
        cpuMsPer1000PerGateway: cpuPer1000,
        cpuMsPerGateway: cpu,
        idleCpuMsPerGateway: idle,
        p50: round(p50, 1),
        p99: round(p99, 1),
        p99OneGateway: oneGatewayP99,
        rate: o.rate,
        ...(steady
          ? {
              steadyRate: o.steadyRate,
              p99AtSteadyRate: round(steady.p99, 1),
              p99AtSteadyRateOneGateway: oneGatewaySteadyP99,
            }
          : {}),
        target: `each gateway receives 1/${n} of the events (±10 %)`,
        met: even,
      });
    } finally {
      await clients.call('closeAll');
      await dep.destroy();
    }
  }
  return results;
}
