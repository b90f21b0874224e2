import amqplib from 'amqplib';
import { AMQP_URL } from '../lib/services';

/**
 * The dispatch baseline: the same envelopes, queued persistently in a quorum queue, consumed with the
 * same prefetch and acked one by one by a bare amqplib consumer. Returns envelopes/s.
 */
export async function rawConsumeRate(
  queue: string,
  bodies: readonly Buffer[],
  prefetch: number,
): Promise<{ rate: number; received: number }> {
  const conn = await amqplib.connect(AMQP_URL);
  try {
    const ch = await conn.createConfirmChannel();
    await ch.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
    await ch.purgeQueue(queue);
    let next = 0;
    const publishOne = (body: Buffer) =>
      new Promise<void>((resolve, reject) =>
        ch.sendToQueue(queue, body, { persistent: true, contentType: 'application/json' }, (err) =>
          err ? reject(err as Error) : resolve(),
        ),
      );
    await Promise.all(
      Array.from({ length: 2000 }, async () => {
        while (next < bodies.length) await publishOne(bodies[next++] as Buffer);
      }),
    );

    const sub = await conn.createChannel();
    await sub.prefetch(prefetch);
    let received = 0;
    let first = 0;
    let last = 0;
    const done = new Promise<void>((resolve) => {
      void sub.consume(queue, (msg) => {
        if (!msg) return;
        // Parsing is the least any consumer does with an envelope.
        JSON.parse(msg.content.toString('utf8'));
        if (received === 0) first = performance.now();
        received += 1;
        sub.ack(msg);
        if (received === bodies.length) {
          last = performance.now();
          resolve();
        }
      });
    });
    const timeout = new Promise<never>((_, reject) =>
      setTimeout(
        () => reject(new Error(`raw consume: ${received} of ${bodies.length} arrived`)),
        120_000,
      ).unref(),
    );
    await Promise.race([done, timeout]);
    await sub.close();
    await ch.deleteQueue(queue);
    // Rate over the whole drain, first delivery included (n messages over n-1 gaps would flatter it).
    const ms = Math.max(1, last - first);
    return { rate: (received / ms) * 1000, received };
  } finally {
    await conn.close();
  }
}
