import { createEgressGuard, type EgressGuard } from '../../../src/senders/egress';

/**
 * The egress guard of a sender talking to a local fake: the channel's vendor hosts plus 127.0.0.1 on any
 * port, as HERALD_WEBHOOK_ALLOW_HOSTS=127.0.0.1 would allow.
 */
export const localEgress = (vendorHosts: readonly string[] = []): EgressGuard =>
  createEgressGuard({ vendorHosts, allowHosts: [{ host: '127.0.0.1' }], label: 'test vendor' });
