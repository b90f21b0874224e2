import type { ConfirmChannel, Options } from 'amqplib';

/**
 * Publishes persistently on a confirm channel and resolves once the broker has taken the message (its
 * queues have it), rejecting when the broker refuses it or, with `timeoutMs`, does not answer in time.
 * `exchange` '' with a queue name as `routingKey` sends straight to that queue.
 */
export function publishConfirmed(
  ch: ConfirmChannel,
  exchange: string,
  routingKey: string,
  content: Buffer,
  options: Options.Publish = {},
  timeoutMs?: number,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const timer =
      timeoutMs === undefined
        ? undefined
        : setTimeout(() => reject(new ConfirmTimeoutError(timeoutMs)), timeoutMs);
    try {
      ch.publish(exchange, routingKey, content, { persistent: true, ...options }, (err) => {
        if (timer) clearTimeout(timer);
        if (err) reject(err instanceof Error ? err : new Error('the broker refused the message'));
        else resolve();
      });
    } catch (err) {
      // a channel already closed throws here rather than calling back
      if (timer) clearTimeout(timer);
      reject(err instanceof Error ? err : new Error(String(err)));
    }
  });
}

export class ConfirmTimeoutError extends Error {
  constructor(timeoutMs: number) {
    super(`the broker did not confirm the message within ${timeoutMs} ms`);
    this.name = 'ConfirmTimeoutError';
  }
}
