/** Names of Herald's exchanges and queues; a prefix lets tests and deployments share one broker. */
export interface TopologyNames {
  /** Topic exchange business services publish to (`notify.<template>`). */
  exchange: string;
  /**
   * Internal topic exchange behind `exchange` (bound `#`), whose alternate exchange catches what no queue
   * binds. `exchange` itself keeps no arguments: every publisher that declares it must keep agreeing with it.
   */
  route: string;
  /** Alternate exchange of `route` (fan-out to `dead`): envelopes whose routing key nothing binds. */
  unroutable: string;
  /** Quorum queue of envelopes to dispatch. */
  dispatch: string;
  /** One queue per backoff step, `<prefix>herald.retry.<ms>`, dead-lettering back to `dispatch`. */
  retryQueue(delayMs: number): string;
  /** Rejected envelopes, each with its reason. */
  dead: string;
  /** Fan-out exchange for in-site messages; every gateway binds its own exclusive queue. */
  im: string;
  /** Fan-out exchange for cache invalidation (template changes) across instances. */
  events: string;
  /** Quorum queue of channels' later checks (follow-ups) that are due. */
  followUp: string;
  /** One queue per follow-up delay, `<prefix>herald.followup.wait.<ms>`, dead-lettering into `followUp`. */
  followUpWait(delayMs: number): string;
}

export function topologyNames(prefix = ''): TopologyNames {
  return {
    exchange: `${prefix}herald`,
    route: `${prefix}herald.route`,
    unroutable: `${prefix}herald.unroutable`,
    dispatch: `${prefix}herald.dispatch`,
    retryQueue: (ms) => `${prefix}herald.retry.${ms}`,
    dead: `${prefix}herald.dead`,
    im: `${prefix}herald.im`,
    events: `${prefix}herald.events`,
    followUp: `${prefix}herald.followup`,
    followUpWait: (ms) => `${prefix}herald.followup.wait.${ms}`,
  };
}
