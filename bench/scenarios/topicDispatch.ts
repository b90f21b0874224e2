import { createChaosDeployment } from '../../test/chaos/support/chaosDeployment';
import type { HeraldProcess } from '../../test/chaos/support/heraldProcess';
import { ADMIN_TOKEN } from '../../test/support/testApp';
import type { ScenarioResult } from '../lib/report';
import { round, waitUntil } from '../lib/stats';

/** Herald's V8 heap in use (garbage included) and its live set after the last full GC, from /metrics. */
async function heapFigures(h: HeraldProcess): Promise<{ used: number; live: number }> {
  const text = await (await fetch(`${h.baseUrl}/metrics`)).text();
  // NaN (no full GC yet) reads as 0, below any figure a full GC gives
  const read = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? 0) || 0;
  return { used: read('herald_nodejs_heap_size_used_bytes'), live: read('herald_nodejs_heap_live_bytes') };
}

async function post(h: HeraldProcess, route: string, body: unknown, status: number): Promise<void> {
  const res = await fetch(`${h.baseUrl}${route}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (res.status !== status) throw new Error(`POST ${route}: ${res.status} ${await res.text()}`);
}

/**
 * topic-dispatch: one envelope to a topic of each size (IM only, no sockets), with the 10,000-subscriber
 * bulk upsert timed first. The figure is deliveries/s of the largest topic, from the message accepted to
 * its last attempt row; the ratio is against dispatch-im-10 in the same run (issue 15: >= 0.8x). Herald
 * runs as a child process (`herald start`, api + consumer) on a schema of its own, so the RSS figures are
 * Herald's alone: its peak while each topic is sent, whose growth from the smaller topic to the larger
 * says whether expansion is paged (flat) or not. (In the bench's own process they carried what earlier
 * scenarios had left in its heap.)
 */
export async function runTopicDispatch(o: {
  sizes: readonly number[];
  bulk: number;
  runId: string;
  baseline: number | null;
}): Promise<ScenarioResult> {
  const code = `bench_topic_${o.runId}`;
  // HERALD_BENCH_TOPIC_NODE_OPTIONS: Node flags for this Herald alone, e.g. a heap cap to show that the
  // larger topic needs no more memory (README, topic-dispatch).
  const nodeOptions = process.env.HERALD_BENCH_TOPIC_NODE_OPTIONS;
  const dep = createChaosDeployment({
    LOG_LEVEL: 'silent',
    ...(nodeOptions ? { NODE_OPTIONS: nodeOptions } : {}),
  });
  let finished = false;
  try {
    const worker = await dep.start({ HERALD_ROLES: 'api,consumer' });
    await post(
      worker,
      '/v1/templates',
      {
        code,
        name: 'Bench topic',
        variables: { text: 'string' },
        channels: { im: { title: 'News', body: '{{ text }}' } },
      },
      201,
    );
    const largest = Math.max(...o.sizes);
    const userIds = Array.from({ length: largest }, (_, i) => `${code}-u${String(i).padStart(6, '0')}`);
    const bulkStarted = Date.now();
    const subscribers = userIds.slice(0, o.bulk).map((userId, i) => ({
      userId,
      email: `bench-${i}@example.com`,
      name: `Bench ${i}`,
      timezone: 'Asia/Shanghai',
    }));
    await post(worker, '/v1/subscribers/bulk', { subscribers }, 200);
    const bulkSeconds = (Date.now() - bulkStarted) / 1000;

    const perSize: Array<{
      members: number;
      seconds: number;
      deliveriesPerSecond: number;
      peakRssMb: number;
      rssBeforeMb: number;
      peakHeapUsedMb: number;
      peakLiveHeapMb: number | null;
    }> = [];
    for (const size of [...o.sizes].sort((a, b) => a - b)) {
      const key = `${code}-t${size}`;
      await post(worker, '/v1/topics', { key, name: `${size} members` }, 201);
      for (let i = 0; i < size; i += 10_000)
        await post(
          worker,
          `/v1/topics/${key}/members`,
          { userIds: userIds.slice(i, Math.min(size, i + 10_000)) },
          200,
        );
      const baseRss = worker.rss() ?? 0;
      let peak = baseRss;
      let peakHeap = 0;
      let peakLive = 0;
      const sampler = setInterval(() => (peak = Math.max(peak, worker.rss() ?? 0)), 100);
      // The live set after full GCs says whether growth is kept objects or garbage V8 lets pile up.
      const heapSampler = setInterval(
        () =>
          void heapFigures(worker).then(
            (b) => ((peakHeap = Math.max(peakHeap, b.used)), (peakLive = Math.max(peakLive, b.live))),
            () => undefined,
          ),
        500,
      );
      const id = `${key}-m`;
      const started = Date.now();
      try {
        await post(
          worker,
          '/v1/messages',
          { id, template: code, to: { topic: key }, data: { text: 'hi' } },
          202,
        );
        await waitUntil(
          async () => {
            const { rows } = await dep.db.query<{ n: number }>(
              `SELECT count(*)::int AS n FROM "DeliveryAttempt" a JOIN "Delivery" d ON d.id = a."deliveryId" WHERE d."messageId" = $1`,
              [id],
            );
            return (rows[0]?.n ?? 0) >= size ? true : undefined;
          },
          { timeoutMs: Math.max(120_000, size * 20), everyMs: 250, describe: () => `topic of ${size}` },
        );
      } finally {
        clearInterval(sampler);
        clearInterval(heapSampler);
      }
      const seconds = (Date.now() - started) / 1000;
      perSize.push({
        members: size,
        seconds: round(seconds, 2),
        deliveriesPerSecond: round(size / seconds),
        peakRssMb: round(peak / 1024 / 1024),
        rssBeforeMb: round(baseRss / 1024 / 1024),
        peakHeapUsedMb: round(peakHeap / 1024 / 1024),
        // null: Herald ran no full GC yet, so nothing says what it keeps
        peakLiveHeapMb: peakLive > 0 ? round(peakLive / 1024 / 1024) : null,
      });
    }
    const last = perSize[perSize.length - 1];
    const figure = last?.deliveriesPerSecond ?? null;
    const ratio = o.baseline && figure !== null ? figure / o.baseline : null;
    // Flat: the largest topic's peak within a tenth of the smallest's.
    const first = perSize[0];
    const rssFlat = first !== undefined && last !== undefined && last.peakRssMb <= first.peakRssMb * 1.1;
    // Of the live set after full GCs: null when the smaller topic's send saw none.
    const firstLive = first?.peakLiveHeapMb ?? null;
    const lastLive = last?.peakLiveHeapMb ?? null;
    const liveHeapFlat = firstLive === null || lastLive === null ? null : lastLive <= firstLive * 1.1;
    finished = true;
    return {
      name: 'topic-dispatch',
      figure,
      unit: 'deliveries/s',
      baseline: o.baseline,
      baselineUnit: 'deliveries/s of dispatch-im-10 in this run',
      ratio: ratio === null ? null : round(ratio, 3),
      target: '>= 0.8x of dispatch-im-10; peak RSS flat across topic sizes',
      met: ratio !== null && ratio >= 0.8 && rssFlat,
      rssFlat,
      liveHeapFlat,
      ...(nodeOptions ? { heraldNodeOptions: nodeOptions } : {}),
      topics: perSize,
      bulkUpsert: { subscribers: o.bulk, seconds: round(bulkSeconds, 2) },
    };
  } finally {
    // A cleanup that fails after the scenario did must not hide the scenario's own error.
    await dep.destroy().catch((err: unknown) => {
      if (finished) throw err;
      console.error(`topic-dispatch: cleanup failed as well: ${(err as Error).message}`);
    });
  }
}
