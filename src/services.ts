import { createChannelAccountService } from './accounts/channelAccountService';
import { createAuditLog } from './audit/auditLog';
import { createApiKeyService } from './auth/apiKeys';
import type { SecretHealth } from './accounts/secretHealth';
import { createUnsubscribeLinks } from './audience/unsubscribeLinks';
import { createSuppressions } from './audience/suppressionList';
import type { AppServices } from './appContext';
import type { LocalSecrets } from './config/localSecrets';
import type { PipelineServices } from './consumer/pipeline';
import type { Database } from './db/database';
import { createLocalImBus, type ImBus } from './inbox/imBus';
import { createInboxStore, type InboxStore } from './inbox/inboxStore';
import { schedulerChannel } from './scheduler/scheduler';
import { createEgressGuard, type AllowedHost, type EgressGuard } from './senders/egress';
import { createTemplateService } from './templates/templateService';
import { createStatusWebhookService } from './webhooks/webhookService';

/** The admin-side services; the inbox and bus are IM's (in-process ones when none are given). */
export function createServices(deps: {
  db: Database;
  secrets: LocalSecrets;
  /** HERALD_WEBHOOK_ALLOW_HOSTS. */
  webhookAllowHosts: readonly AllowedHost[];
  /** HERALD_STATUS_WEBHOOK_ALLOW_HOSTS (none when omitted: https to public hosts only). */
  statusWebhookAllowHosts?: readonly AllowedHost[];
  /** Counts and reports secrets that fail to decrypt (its check is on /ready). */
  secretHealth?: SecretHealth;
  inbox?: InboxStore;
  imBus?: ImBus;
  pipeline?: PipelineServices;
  /** HERALD_API_KEY_CACHE_MS (its default when not given). */
  apiKeyCacheTtlMs?: number;
  /** Where mail recipients reach the api role (publicUrlOf), and HERALD_UNSUBSCRIBE_LINK_TTL. */
  unsubscribe: { publicUrl: string; ttlMs: number };
}): AppServices {
  return Object.freeze({
    accounts: createChannelAccountService({
      prisma: deps.db.prisma,
      secretKey: deps.secrets.secretKey,
      previousSecretKeys: deps.secrets.previousSecretKeys,
      secretHealth: deps.secretHealth,
      webhookAllowHosts: deps.webhookAllowHosts,
    }),
    templates: createTemplateService({ db: deps.db }),
    inbox:
      deps.inbox ?? createInboxStore(deps.db.sql, { schedulerChannel: schedulerChannel(deps.db.schema) }),
    imBus: deps.imBus ?? createLocalImBus(),
    pipeline: deps.pipeline,
    apiKeys: createApiKeyService({ prisma: deps.db.prisma, cacheTtlMs: deps.apiKeyCacheTtlMs ?? 10_000 }),
    audit: createAuditLog(deps.db.prisma),
    unsubscribeLinks: createUnsubscribeLinks({
      secretKey: deps.secrets.secretKey,
      previousSecretKeys: deps.secrets.previousSecretKeys,
      ...deps.unsubscribe,
    }),
    suppressions: createSuppressions(deps.secrets),
    webhooks: createStatusWebhookService({
      db: deps.db,
      secretKey: deps.secrets.secretKey,
      previousSecretKeys: deps.secrets.previousSecretKeys,
      egress: statusWebhookEgress(deps.statusWebhookAllowHosts ?? []),
    }),
  });
}

/** Where status webhooks may go: any public host over https, or a listed host (http, private) too. */
export function statusWebhookEgress(allowHosts: readonly AllowedHost[]): EgressGuard {
  return createEgressGuard({
    vendorHosts: [],
    allowHosts,
    label: 'status webhook',
    allowVariable: 'HERALD_STATUS_WEBHOOK_ALLOW_HOSTS',
    anyHttpsHost: true,
  });
}
