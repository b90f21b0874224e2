/**
 * Sizes of the chaos scenarios. CHAOS_MODE=full runs the figures of issue 7 (by hand, about half an
 * hour); the default quick mode keeps every scenario but smaller, so CI runs all six in a few minutes.
 */
export const FULL = process.env.CHAOS_MODE === 'full';

export const chaosSizes = FULL
  ? {
      mode: 'full' as const,
      killEnvelopes: 5000,
      kills: 3,
      brokerEnvelopes: 5000,
      brokerOutageMs: 10_000,
      dbEnvelopes: 3000,
      dbOutageMs: 30_000,
      drainEnvelopes: 3000,
      fuzzEnvelopes: 10_000,
      fuzzHugeBodies: 20,
      stormEnvelopes: 300,
      stormMs: 120_000,
      clusterEnvelopes: 5000,
      followerOutageMs: 20_000,
      pgSockets: 1000,
      pgItems: 3000,
    }
  : {
      mode: 'quick' as const,
      killEnvelopes: 1000,
      kills: 2,
      brokerEnvelopes: 1000,
      brokerOutageMs: 5_000,
      dbEnvelopes: 600,
      dbOutageMs: 10_000,
      drainEnvelopes: 1000,
      fuzzEnvelopes: 2000,
      fuzzHugeBodies: 5,
      stormEnvelopes: 60,
      stormMs: 20_000,
      clusterEnvelopes: 600,
      followerOutageMs: 8_000,
      pgSockets: 200,
      pgItems: 600,
    };
