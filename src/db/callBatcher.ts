import { isTransientInfraError } from './transientErrors';

interface Pending<I, O> {
  input: I;
  resolve(o: O): void;
  reject(err: unknown): void;
}

export interface CallBatcherOptions {
  /** The most calls one batch holds. */
  maxBatch?: number;
  /**
   * The most batches running at once. Calls made while that many run wait and go together in the next
   * batch: under load each step becomes one statement (and one commit) per round trip of the database,
   * however many envelopes reach it meanwhile, instead of one small batch per turn of the event loop.
   * Two by default: with one, a batch that stalls (a lock, a checkpoint) held up every call behind it,
   * which showed in the latency tail; with no limit, batches stayed small and each paid its own commit.
   */
  maxInFlight?: number;
}

/**
 * Coalesces calls into one call of `runMany`, whose outputs go back to each caller in order. A call made
 * while no batch is running goes at the next turn of the event loop (with whatever else arrived by then:
 * typically the envelopes of one prefetch window reaching the same step); past `maxInFlight` running
 * batches, calls queue until one finishes. If a batch fails for a reason other than an outage, each call
 * is run alone so that one bad input cannot fail its neighbours.
 */
export function createCallBatcher<I, O>(
  runMany: (inputs: I[]) => Promise<O[]>,
  options: CallBatcherOptions = {},
): (input: I) => Promise<O> {
  const maxBatch = options.maxBatch ?? 500;
  const maxInFlight = options.maxInFlight ?? 2;
  const queue: Pending<I, O>[] = [];
  let scheduled = false;
  let inFlight = 0;

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
    while (queue.length && inFlight < maxInFlight) {
      const batch = queue.splice(0, maxBatch);
      inFlight++;
      void run(batch).finally(() => {
        inFlight--;
        schedule();
      });
    }
  }

  function schedule(): void {
    if (scheduled || !queue.length || inFlight >= maxInFlight) return;
    scheduled = true;
    setImmediate(flush);
  }

  return (input) =>
    new Promise<O>((resolve, reject) => {
      queue.push({ input, resolve, reject });
      schedule();
    });
}
