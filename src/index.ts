// The package's public surface for business services: the envelope contract and the publisher SDK.
export { envelopeSchema, recipientSchema, routingKeyFor, CHANNELS } from './contract/envelope';
export type { Envelope, EnvelopeInput, Recipient, ChannelName, TopicRef } from './contract/envelope';
export type {
  SubscriberInput,
  SubscriberView,
  Preferences,
  QuietHours,
  BulkSubscribers,
} from './contract/subscriber';
export type { TopicInput, TopicView } from './contract/topic';
export { SUPPRESSION_REASONS } from './contract/suppression';
export type {
  SuppressionInput,
  SuppressionView,
  SuppressionList,
  SuppressionReason,
} from './contract/suppression';
export type {
  CreateTemplateInput,
  UpdateTemplateInput,
  TemplateView,
  TemplateVersionView,
} from './contract/template';
export type { DigestSpec, ThrottleSpec, DedupeSpec } from './contract/templatePolicy';
export { SKIP_REASONS } from './delivery/statuses';
export type { SkipReason } from './delivery/statuses';
export { createHeraldPublisher, PublishError } from './sdk/publisher';
export type { HeraldPublisher, HeraldPublisherOptions } from './sdk/publisher';
export { CancelError } from './sdk/cancel';
export type { HeraldApiOptions } from './sdk/cancel';
export type { CancelOutcome } from './delivery/cancelMessage';
// What GET /v1/messages/:id answers: a delivery's status (deferred: held for quiet hours until nextAttemptAt).
export { DELIVERY_STATUSES, MESSAGE_STATUSES } from './delivery/statuses';
export type { DeliveryStatus, MessageStatus } from './delivery/statuses';
export { signUserToken } from './auth/userToken';
// The inbox protocol for frontends and their own backends: frames, items, counts, selections.
export { clientFrameSchema, serverFrameSchema } from './gateway/protocol';
export type { ClientFrame, ServerFrame } from './gateway/protocol';
export type { InboxItemView, ItemActions, Severity } from './inbox/inboxItem';
export type { InboxCounts } from './inbox/inboxCounts';
export type { InboxFilter, FilterRef } from './inbox/inboxFilter';
export type { Selection, ChangeName } from './inbox/inboxChange';
export { verifySignature as verifyStatusWebhookSignature, SIGNATURE_HEADER } from './webhooks/signature';
export type { StatusEventBody } from './contract/statusWebhook';
export { EVENT_TYPES } from './events/eventTypes';
export type { EventType } from './events/eventTypes';
export type { MessageTimeline, TimelineEntry } from './contract/messageTimeline';
export type { WebhookView, WebhookAttemptView } from './contract/statusWebhook';
