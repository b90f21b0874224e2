import { createCallBatcher } from '../../src/db/callBatcher';

describe('createCallBatcher', () => {
  it('runs the calls made together as one batch and answers each in order', async () => {
    const batches: number[][] = [];
    const double = createCallBatcher(async (xs: number[]) => {
      batches.push(xs);
      return xs.map((x) => x * 2);
    });
    const out = await Promise.all([1, 2, 3].map((x) => double(x)));
    expect(out).toEqual([2, 4, 6]);
    expect(batches).toEqual([[1, 2, 3]]);
    expect(await double(5)).toBe(10);
    expect(batches).toEqual([[1, 2, 3], [5]]);
  });

  it('splits a large burst into batches of at most maxBatch', async () => {
    const sizes: number[] = [];
    const id = createCallBatcher(
      async (xs: number[]) => {
        sizes.push(xs.length);
        return xs;
      },
      { maxBatch: 4, maxInFlight: 3 },
    );
    await Promise.all(Array.from({ length: 10 }, (_, i) => id(i)));
    expect(sizes).toEqual([4, 4, 2]);
  });

  it('retries a failed batch call by call, so only the bad input fails', async () => {
    const calls: number[][] = [];
    const check = createCallBatcher(async (xs: number[]) => {
      calls.push(xs);
      if (xs.includes(13)) throw new Error('refused 13');
      return xs.map((x) => `ok ${x}`);
    });
    const settled = await Promise.allSettled([1, 13, 2].map((x) => check(x)));
    expect(settled.map((s) => (s.status === 'fulfilled' ? s.value : (s.reason as Error).message))).toEqual([
      'ok 1',
      'refused 13',
      'ok 2',
    ]);
    expect(calls).toEqual([[1, 13, 2], [1], [13], [2]]);
  });

  it('fails the whole batch at once when the database is away, without retrying each call', async () => {
    let calls = 0;
    const down = createCallBatcher(async (): Promise<number[]> => {
      calls++;
      throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    });
    const settled = await Promise.allSettled([1, 2, 3].map((x) => down(x)));
    expect(settled.every((s) => s.status === 'rejected')).toBe(true);
    expect(calls).toBe(1);
  });
  it('holds the calls made while a batch runs and sends them together when it finishes', async () => {
    const batches: number[][] = [];
    let running = 0;
    let most = 0;
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const slow = createCallBatcher(
      async (xs: number[]) => {
        batches.push(xs);
        running++;
        most = Math.max(most, running);
        if (batches.length === 1) await gate;
        running--;
        return xs;
      },
      { maxInFlight: 1 },
    );
    const first = slow(1);
    await new Promise((r) => setImmediate(r));
    const later = [2, 3, 4].map((x) => slow(x));
    await new Promise((r) => setTimeout(r, 20));
    expect(batches).toEqual([[1]]);
    release();
    expect(await Promise.all([first, ...later])).toEqual([1, 2, 3, 4]);
    expect(batches).toEqual([[1], [2, 3, 4]]);
    expect(most).toBe(1);
  });
});
