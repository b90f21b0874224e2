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
  /** Envelopes of the 100- and 1,000-recipient points of the recipients curve. */
  im100Envelopes: number;
  im1000Envelopes: number;
  /** Old messages (each with a delivery and an attempt) in the tables before dispatch-im-1-prefilled. */
  prefillRows: number;
  /** Inbox sizes of the hello curve; the first is the baseline. */
  helloItems: number[];
  /** Idle-socket counts of the connections curve. */
  socketCurve: number[];
  /** Length of each wrk run of http-publish (Herald, then the bare server). */
  httpSeconds: number;
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
  im100Envelopes: 200,
  im1000Envelopes: 20,
  prefillRows: 5_000_000,
  helloItems: [10, 10_000, 1_000_000],
  socketCurve: [1_000, 5_000, 10_000, 15_000],
  httpSeconds: 15,
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
  im100Envelopes: 10,
  im1000Envelopes: 2,
  prefillRows: 50_000,
  helloItems: [10, 1_000, 10_000],
  socketCurve: [500],
  httpSeconds: 3,
};
