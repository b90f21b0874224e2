import type { BenchDeployment } from '../lib/deployment';
import type { ScenarioResult } from '../lib/report';
import { round, waitUntil } from '../lib/stats';

/**
 * topic-dispatch: one envelope to a topic of each size (IM only, no sockets), with the 10,000-subscriber
 * bulk upsert timed first. The figure is deliveries/s of the largest topic, from the message accepted to
 * its last attempt row; the ratio is against dispatch-im-10 in the same run (issue 15: >= 0.8x). Herald
 * runs in the bench's process, so the RSS figures are that process's peak while each topic is sent: its
 * growth from the smaller topic to the larger is what says whether expansion is paged (flat) or not.
 */
export async function runTopicDispatch(
  bench: BenchDeployment,
  o: { sizes: readonly number[]; bulk: number; runId: string; baseline: number | null },
): Promise<ScenarioResult> {
  const code = `bench_topic_${o.runId}`;
  const worker = await bench.start('api,consumer');
  const api = bench.api(worker);
  try {
    await api.createTemplate({
      code,
      name: 'Bench topic',
      variables: { text: 'string' },
      channels: { im: { title: 'News', body: '{{ text }}' } },
    });
    const largest = Math.max(...o.sizes);
    const userIds = Array.from({ length: largest }, (_, i) => `${code}-u${String(i).padStart(6, '0')}`);
    const bulkStarted = Date.now();
    const subscribers = userIds.slice(0, o.bulk).map((userId, i) => ({
      userId,
      email: `bench-${i}@example.com`,
      name: `Bench ${i}`,
      timezone: 'Asia/Shanghai',
    }));
    await api.post('/v1/subscribers/bulk', { subscribers }, 200);
    const bulkSeconds = (Date.now() - bulkStarted) / 1000;

    const perSize: Array<{
      members: number;
      seconds: number;
      deliveriesPerSecond: number;
      peakRssMb: number;
    }> = [];
    for (const size of [...o.sizes].sort((a, b) => a - b)) {
      const key = `${code}-t${size}`;
      await api.post('/v1/topics', { key, name: `${size} members` }, 201);
      for (let i = 0; i < size; i += 10_000)
        await api.post(
          `/v1/topics/${key}/members`,
          { userIds: userIds.slice(i, Math.min(size, i + 10_000)) },
          200,
        );
      let peak = process.memoryUsage().rss;
      const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 100);
      const id = `${key}-m`;
      const started = Date.now();
      try {
        await api.post('/v1/messages', { id, template: code, to: { topic: key }, data: { text: 'hi' } }, 202);
        await waitUntil(
          async () => {
            const { rows } = await bench.db.sql.query<{ n: number }>(
              `SELECT count(*)::int AS n FROM "DeliveryAttempt" a JOIN "Delivery" d ON d.id = a."deliveryId" WHERE d."messageId" = $1`,
              [id],
            );
            return (rows[0]?.n ?? 0) >= size ? true : undefined;
          },
          { timeoutMs: Math.max(120_000, size * 20), everyMs: 250, describe: () => `topic of ${size}` },
        );
      } finally {
        clearInterval(sampler);
      }
      const seconds = (Date.now() - started) / 1000;
      perSize.push({
        members: size,
        seconds: round(seconds, 2),
        deliveriesPerSecond: round(size / seconds),
        peakRssMb: round(peak / 1024 / 1024),
      });
    }
    const last = perSize[perSize.length - 1];
    const figure = last?.deliveriesPerSecond ?? null;
    const ratio = o.baseline && figure !== null ? figure / o.baseline : null;
    return {
      name: 'topic-dispatch',
      figure,
      unit: 'deliveries/s',
      baseline: o.baseline,
      baselineUnit: 'deliveries/s of dispatch-im-10 in this run',
      ratio: ratio === null ? null : round(ratio, 3),
      target: '>= 0.8x of dispatch-im-10; peak RSS flat across topic sizes',
      met: ratio !== null && ratio >= 0.8,
      topics: perSize,
      bulkUpsert: { subscribers: o.bulk, seconds: round(bulkSeconds, 2) },
    };
  } finally {
    await worker.stop();
  }
}
