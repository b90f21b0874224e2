import { createConcurrencyLimit, reservedSlotsFor } from '../../src/consumer/concurrencyLimit';

/** A call that holds its slot until released, recording when it started. */
function held(started: string[], name: string) {
  let release!: () => void;
  const done = new Promise<void>((r) => (release = r));
  return {
    release: () => release(),
    run: async () => {
      started.push(name);
      await done;
    },
  };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('concurrency limit with slots kept for critical sends', () => {
  it('lets critical calls use the reserved slots while ordinary ones wait', async () => {
    const run = createConcurrencyLimit(2, 1);
    const started: string[] = [];
    const calls = ['a', 'b', 'c'].map((n) => held(started, n));
    const alert = held(started, 'alert');
    const pending = calls.map((c) => run(c.run));
    const urgent = run(alert.run, { critical: true });
    await tick();
    expect(started).toEqual(['a', 'b', 'alert']);
    alert.release();
    await urgent;
    await tick();
    // The reserved slot came free; `c` still waits for an ordinary one.
    expect(started).toEqual(['a', 'b', 'alert']);
    calls[0]?.release();
    await tick();
    expect(started).toEqual(['a', 'b', 'alert', 'c']);
    for (const c of calls) c.release();
    await Promise.all(pending);
  });

  it('serves a waiting critical call before ordinary ones queued earlier', async () => {
    const run = createConcurrencyLimit(1, 0);
    const started: string[] = [];
    const first = held(started, 'first');
    const queued = ['q1', 'q2'].map((n) => held(started, n));
    const alert = held(started, 'alert');
    const all = [run(first.run), ...queued.map((q) => run(q.run)), run(alert.run, { critical: true })];
    await tick();
    expect(started).toEqual(['first']);
    first.release();
    await tick();
    expect(started).toEqual(['first', 'alert']);
    alert.release();
    await tick();
    expect(started).toEqual(['first', 'alert', 'q1']);
    for (const q of queued) q.release();
    await Promise.all(all);
  });

  it('never runs more than limit + reserved at once, and frees its slots on errors', async () => {
    const run = createConcurrencyLimit(3, 2);
    let active = 0;
    let peak = 0;
    let peakOrdinary = 0;
    let ordinary = 0;
    const work = (critical: boolean, fail: boolean) =>
      run(
        async () => {
          active++;
          if (!critical) ordinary++;
          peak = Math.max(peak, active);
          peakOrdinary = Math.max(peakOrdinary, ordinary);
          await new Promise((r) => setTimeout(r, 1));
          active--;
          if (!critical) ordinary--;
          if (fail) throw new Error('boom');
        },
        { critical },
      ).catch(() => undefined);
    await Promise.all(Array.from({ length: 200 }, (_, i) => work(i % 3 === 0, i % 7 === 0)));
    expect(peak).toBe(5);
    expect(peakOrdinary).toBe(3);
    await expect(run(async () => 'ok')).resolves.toBe('ok');
  });

  it('keeps an eighth of a channel limit, at least one slot', () => {
    expect([1, 4, 16, 64].map(reservedSlotsFor)).toEqual([1, 1, 2, 8]);
  });
});
