import { isTransientInfraError } from './transientErrors';

interface Pending<I, O> {
  input: I;
  resolve(o: O): void;
  reject(err: unknown): void;
}

/**
 * Coalesces the calls made while a flush is pending (everything the event loop does before
 * `setImmediate` fires: typically the envelopes of one prefetch window reaching the same step) into one
 * call of `runMany`, whose outputs go back to each caller in order. If a batch fails for a reason other
 * than an outage, each call is run alone so that one bad input cannot fail its neighbours.
 */
export function createCallBatcher<I, O>(
  runMany: (inputs: I[]) => Promise<O[]>,
  maxBatch = 500,
): (input: I) => Promise<O> {
  let queue: Pending<I, O>[] = [];
  let scheduled = false;

  async function run(batch: Pending<I, O>[]): Promise<void> {
    try {
      const outputs = await runMany(batch.map((p) => p.input));
      batch.forEach((p, i) => p.resolve(outputs[i] as O));
    } catch (err) {
      if (batch.length === 1 || isTransientInfraError(err)) {
        for (const p of batch) p.reject(err);
        return;
      }
      await Promise.all(batch.map((p) => run([p])));
    }
  }

  function flush(): void {
    scheduled = false;
    const all = queue;
    queue = [];
    for (let i = 0; i < all.length; i += maxBatch) void run(all.slice(i, i + maxBatch));
  }

  return (input) =>
    new Promise<O>((resolve, reject) => {
      queue.push({ input, resolve, reject });
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    });
}
