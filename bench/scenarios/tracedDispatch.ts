import { loadConfig } from '../../src/config/loadConfig';
import { startTracing } from '../../src/tracing/tracing';
import { startChild, type Child } from '../lib/childRpc';
import type { BenchDeployment } from '../lib/deployment';
import type { ScenarioResult } from '../lib/report';
import { round, waitUntil } from '../lib/stats';
import { runDispatch } from './dispatch';

interface SinkCounts {
  requests: number;
  bytes: number;
  refused: number;
  spans: number;
  byName: Record<string, number>;
}

/**
 * dispatch-im-1-traced: dispatch-im-1 again with tracing on, exporting over OTLP/HTTP to a local collector
 * (a child process that counts spans). The publisher, the consumer and the gateway all run in this
 * process, so each envelope's producer span, consumer spans and socket push are traced, as a business
 * service with tracing on would see it. The SDK runs with its defaults (batches of 512, a queue of 2,048
 * per process): spans it drops under load are reported as the shortfall against what was made. The
 * ratio is against dispatch-im-1 (tracing off) of the same run; it is the cost of tracing, stated, not
 * judged.
 */
export async function runTracedDispatch(
  bench: BenchDeployment,
  clients: Child,
  o: {
    envelopes: number;
    users: number;
    runId: string;
    baseline: ScenarioResult | undefined;
  },
): Promise<ScenarioResult> {
  const sink = await startChild('otlpSink');
  try {
    const { url } = await sink.call<{ url: string }>('listen');
    const tracing = startTracing(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: url }));
    let r: ScenarioResult;
    try {
      r = await runDispatch(bench, clients, {
        name: 'dispatch-im-1-traced',
        envelopes: o.envelopes,
        recipients: 1,
        users: o.users,
        runId: o.runId,
      });
    } finally {
      await tracing.shutdown();
    }
    // Every span has ended and been handed to the exporter; the last exports may still be on the wire.
    let counts = await sink.call<SinkCounts>('counts');
    await waitUntil(
      async () => {
        const before = counts.spans;
        counts = await sink.call<SinkCounts>('counts');
        return counts.spans > 0 && counts.spans === before ? true : undefined;
      },
      { timeoutMs: 30_000, everyMs: 500, describe: () => `${counts.spans} spans at the collector` },
    );
    const baseline = o.baseline?.figure ?? null;
    const ratio = baseline && r.figure !== null ? r.figure / baseline : null;
    const cpuOff = o.baseline?.cpuUsPerDelivery;
    const cpuOn = r.cpuUsPerDelivery;
    return {
      ...r,
      baseline,
      baselineUnit: 'envelopes/s of dispatch-im-1 (tracing off) in this run',
      ratio: ratio === null ? null : round(ratio, 3),
      target: 'measured: the cost of tracing with an exporter on',
      cpuUsPerDeliveryUntraced: typeof cpuOff === 'number' ? cpuOff : null,
      cpuRatio: typeof cpuOff === 'number' && typeof cpuOn === 'number' ? round(cpuOn / cpuOff, 3) : null,
      spansExported: counts.spans,
      spansPerEnvelope: round(counts.spans / o.envelopes, 2),
      spansByName: counts.byName,
      exportRequests: counts.requests,
      exportBytes: counts.bytes,
    };
  } finally {
    await sink.stop();
  }
}
