import { constants, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import { Gauge, type Registry } from 'prom-client';

/** A `gc` entry; the @types/node line this project pins leaves out its `detail`. */
type GcEntry = PerformanceEntry & { detail?: { kind?: number } };

/**
 * The V8 heap in use just after the last full (mark-compact) collection: what the process keeps alive.
 * `herald_nodejs_heap_size_used_bytes` also counts garbage not yet collected, and V8 lets more of it pile
 * up the longer a burst allocates, so a busy process's heap in use (and RSS) grows while what it keeps
 * does not; this gauge tells a leak from that. It is NaN until the process's first full collection.
 * Returns the observer's disconnect.
 */
export function registerLiveHeapGauge(registry: Registry): () => void {
  let live: number | undefined;
  const observer = new PerformanceObserver((list) => {
    const major = list
      .getEntries()
      .some((e: GcEntry) => e.detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR);
    if (major) live = getHeapStatistics().used_heap_size;
  });
  observer.observe({ entryTypes: ['gc'] });
  new Gauge({
    name: 'herald_nodejs_heap_live_bytes',
    help: 'V8 heap in use just after the last full garbage collection (the live set), in bytes; NaN before the first',
    registers: [registry],
    collect() {
      this.set(live ?? Number.NaN);
    },
  });
  return () => observer.disconnect();
}
