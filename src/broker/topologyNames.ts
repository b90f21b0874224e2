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
  /**
   * Internal topic exchange between `exchange` and `route` (bound `#`), whose alternate exchange is `route`:
   * it binds `notify.<code>` of each critical template to `critical`, and everything else falls through.
   */
  routeCritical: string;
  /** Quorum queue of envelopes to dispatch. */
  dispatch: string;
  /** Quorum queue of critical templates' envelopes, consumed with a prefetch of its own (issue 15). */
  critical: string;
  /**
   * One quorum queue per backoff step, `<prefix>herald.retry.quorum.<ms>`, dead-lettering back to
   * `dispatch`. (The classic `herald.retry.<ms>` queues of earlier versions lived on one node: with it
   * down, no instance could declare its topology; left over, they drain into `dispatch` by themselves.)
   */
  retryQueue(delayMs: number): string;
  /** The same backoff steps for envelopes of `critical`, dead-lettering back there. */
  criticalRetryQueue(delayMs: number): string;
  /** Rejected envelopes, each with its reason. */
  dead: string;
  /**
   * Direct exchange for in-site events, routed by user (`imRoutingKey`): each gateway binds its own
   * exclusive queue with the key of every user it holds a socket of, so it receives only their events.
   * (Named apart from the fan-out `herald.im` of earlier versions, whose type it cannot take over.)
   */
  im: string;
  /** Fan-out exchange for cache invalidation (template changes) across instances. */
  events: string;
  /** Quorum queue of channels' later checks (follow-ups) that are due. */
  followUp: string;
  /** One quorum queue per follow-up delay, `<prefix>herald.followup.wait.quorum.<ms>`, dead-lettering into `followUp`. */
  followUpWait(delayMs: number): string;
}

export function topologyNames(prefix = ''): TopologyNames {
  return {
    exchange: `${prefix}herald`,
    route: `${prefix}herald.route`,
    unroutable: `${prefix}herald.unroutable`,
    routeCritical: `${prefix}herald.route.critical`,
    dispatch: `${prefix}herald.dispatch`,
    critical: `${prefix}herald.dispatch.critical`,
    retryQueue: (ms) => `${prefix}herald.retry.quorum.${ms}`,
    criticalRetryQueue: (ms) => `${prefix}herald.retry.critical.quorum.${ms}`,
    dead: `${prefix}herald.dead`,
    im: `${prefix}herald.im.users`,
    events: `${prefix}herald.events`,
    followUp: `${prefix}herald.followup`,
    followUpWait: (ms) => `${prefix}herald.followup.wait.quorum.${ms}`,
  };
}

/** The dispatch queues a consumer declares: both lanes, the retry steps of each, and the dead letters. */
export function dispatchQueues(names: TopologyNames, retryDelays: readonly number[]): string[] {
  return [
    names.dispatch,
    names.critical,
    ...retryDelays.map((d) => names.retryQueue(d)),
    ...retryDelays.map((d) => names.criticalRetryQueue(d)),
    names.dead,
  ];
}

/** The follow-up queue and one wait queue per delay, as the consumer declares them for these delays. */
export function followUpQueues(names: TopologyNames, delaysMs: readonly number[]): string[] {
  return [names.followUp, ...[...new Set(delaysMs)].map((d) => names.followUpWait(d))];
}

/** Every exchange Herald declares. */
export function topologyExchanges(names: TopologyNames): string[] {
  return [names.exchange, names.routeCritical, names.route, names.unroutable, names.im, names.events];
}
