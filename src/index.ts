// The package's public surface for business services: the envelope contract and the publisher SDK.
export { envelopeSchema, recipientSchema, routingKeyFor, CHANNELS } from './contract/envelope';
export type { Envelope, EnvelopeInput, Recipient, ChannelName } from './contract/envelope';
export { createHeraldPublisher, PublishError } from './sdk/publisher';
export type { HeraldPublisher, HeraldPublisherOptions } from './sdk/publisher';
export { CancelError } from './sdk/cancel';
export type { HeraldApiOptions } from './sdk/cancel';
export type { CancelOutcome } from './delivery/cancelMessage';
export { signUserToken } from './auth/userToken';
