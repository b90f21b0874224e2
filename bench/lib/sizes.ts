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
  /** im-fanout: users with a socket (spread over 1, 2, 4 gateways), publish rate and duration. */
  fanoutUsers: number;
  fanoutRate: number;
  /** A second im-fanout phase at a rate this machine's dispatch keeps up with (its p99 is the fan-out's). */
  fanoutSteadyRate: number;
  fanoutMs: number;
  /** Envelopes of scheduled-burst, all due the same second, and how far ahead that second is. */
  scheduledEnvelopes: number;
  scheduledLeadMs: number;
  /** topic-dispatch: the topic sizes sent (the last is the figure) and the bulk upsert's size. */
  topicSizes: number[];
  bulkSubscribers: number;
  /** alert-during-topic: the topic's members, and the alerts' rate and duration in each phase. */
  alertTopicMembers: number;
  alertRate: number;
  alertMs: number;
  /** snooze-wake: users with a socket, items each snoozed until the same second, and the lead to it. */
  snoozeUsers: number;
  snoozeItemsPerUser: number;
  snoozeLeadMs: number;
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
  fanoutUsers: 1_000,
  fanoutRate: 1_000,
  fanoutSteadyRate: 300,
  fanoutMs: 10_000,
  scheduledEnvelopes: 100_000,
  scheduledLeadMs: 240_000,
  topicSizes: [10_000, 100_000],
  bulkSubscribers: 10_000,
  alertTopicMembers: 100_000,
  alertRate: 40,
  alertMs: 5_000,
  snoozeUsers: 1_000,
  snoozeItemsPerUser: 10,
  snoozeLeadMs: 40_000,
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
  fanoutUsers: 200,
  fanoutRate: 200,
  fanoutSteadyRate: 100,
  fanoutMs: 3_000,
  scheduledEnvelopes: 2_000,
  scheduledLeadMs: 30_000,
  topicSizes: [1_000, 5_000],
  bulkSubscribers: 2_000,
  // The alerts' phase is short and the topic large, so the topic outlasts it on a faster machine too.
  alertTopicMembers: 30_000,
  alertRate: 40,
  alertMs: 1_500,
  snoozeUsers: 100,
  snoozeItemsPerUser: 2,
  snoozeLeadMs: 15_000,
};
