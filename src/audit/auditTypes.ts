/**
 * What the audit log records: every change an admin makes, by what it changed. On its own (no Node, no
 * database) so the console's bundle imports it too.
 */
export const AUDIT_TARGET_TYPES = [
  'template',
  'channelAccount',
  'apiKey',
  'deadLetter',
  'delivery',
  'message',
  'statusWebhook',
  'subscriber',
  'topic',
  'inboxTab',
  'suppression',
] as const;
export type AuditTargetType = (typeof AUDIT_TARGET_TYPES)[number];

export const AUDIT_ACTIONS = [
  'template.create',
  'template.update',
  'template.archive',
  'channelAccount.create',
  'channelAccount.replace',
  'channelAccount.delete',
  // One real message sent through the account from the console or the API, with its outcome.
  'channelAccount.test',
  'apiKey.create',
  'apiKey.revoke',
  'deadLetter.replay',
  'deadLetter.delete',
  'deadLetter.purge',
  'delivery.retry',
  'message.cancel',
  'statusWebhook.create',
  'statusWebhook.replace',
  'statusWebhook.delete',
  'subscriber.upsert',
  'subscriber.bulkUpsert',
  'subscriber.erase',
  'subscriber.preferences',
  'topic.create',
  'topic.addMembers',
  'topic.removeMembers',
  'inboxTab.replace',
  'inboxTab.delete',
  'suppression.add',
  'suppression.remove',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];
