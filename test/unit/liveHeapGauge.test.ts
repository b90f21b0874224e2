import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Registry } from 'prom-client';
import { registerLiveHeapGauge } from '../../src/liveHeapGauge';

setFlagsFromString('--expose-gc');
const fullGc = runInNewContext('gc') as () => void;

async function liveAfterFullGc(registry: Registry): Promise<number> {
  fullGc();
  // gc entries reach observers asynchronously
  await new Promise((resolve) => setTimeout(resolve, 50));
  const metric = await registry.getSingleMetric('herald_nodejs_heap_live_bytes')?.get();
  return metric?.values[0]?.value ?? Number.NaN;
}

describe('live heap gauge', () => {
  it('follows what the process keeps alive across full collections', async () => {
    const registry = new Registry();
    const stop = registerLiveHeapGauge(registry);
    try {
      // Held through an object, so nothing but the test decides when the strings become garbage.
      const holder: { kept?: string[] } = {
        kept: Array.from({ length: 400_000 }, (_, i) => `kept-${i}-`.repeat(8)),
      };
      const withKept = await liveAfterFullGc(registry);
      delete holder.kept;
      const withoutKept = await liveAfterFullGc(registry);
      // about 80 bytes of characters per string, 400,000 strings
      expect(withKept - withoutKept).toBeGreaterThan(25 * 1024 * 1024);
    } finally {
      stop();
    }
  });
});
