/** How big each scenario runs: the sizes, or small ones for CI (`--quick`). */
export interface Sizes {
  quick: boolean;
  im1Envelopes: number;
  im10Envelopes: number;
  /** Users with a socket open during the dispatch runs; recipients cycle through them. */
  dispatchUsers: number;
  mails: number;
  latencyWarmupMs: number;
  latencyMs: number;
  latencyUsers: number;
  sockets: number;
}

export const FULL: Sizes = {
  quick: false,
  im1Envelopes: 50_000,
  im10Envelopes: 5_000,
  dispatchUsers: 1_000,
  mails: 5_000,
  latencyWarmupMs: 2_000,
  latencyMs: 10_000,
  latencyUsers: 200,
  sockets: 10_000,
};

export const QUICK: Sizes = {
  quick: true,
  im1Envelopes: 2_000,
  im10Envelopes: 200,
  dispatchUsers: 200,
  mails: 200,
  latencyWarmupMs: 500,
  latencyMs: 3_000,
  latencyUsers: 100,
  sockets: 500,
};
