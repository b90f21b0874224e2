import type { FastifyPluginAsync } from 'fastify';
import type { Registry } from 'prom-client';
import type { ChannelAccountService } from './accounts/channelAccountService';
import type { Config } from './config/loadConfig';
import type { LocalSecrets } from './config/localSecrets';
import type { Database } from './db/database';
import type { ImBus } from './inbox/imBus';
import type { InboxStore } from './inbox/inboxStore';
import type { TemplateService } from './templates/templateService';
import type { PipelineServices } from './consumer/pipeline';
import type { AuditLog } from './audit/auditLog';
import type { StatusWebhookService } from './webhooks/webhookService';
import type { ApiKeyService } from './auth/apiKeys';
import type { UnsubscribeLinks } from './audience/unsubscribeLinks';
import type { Suppressions } from './audience/suppressionList';
import type { AccountTester } from './accounts/accountTest';
import { createAuthenticate, type Authenticate } from './auth/credentials';

/** A readiness probe: resolves when the part is reachable, throws with the reason otherwise. */
export type ReadinessCheck = () => Promise<void>;

/**
 * Everything the HTTP routes need, complete when it is created (src/runtime.ts builds the parts in
 * dependency order first) and never changed after.
 */
export interface AppContext {
  readonly config: Config;
  readonly db: Database;
  readonly secrets: LocalSecrets;
  /** Who a bearer token belongs to (bootstrap admin token or API key); see src/auth/credentials.ts. */
  readonly authenticate: Authenticate;
  readonly readiness: Readonly<Record<string, ReadinessCheck>>;
  /** Prometheus registry served at /metrics. */
  readonly metrics: Registry;
  readonly services: AppServices;
  /** The gateway's socket route and demo page, where the gateway role runs. */
  readonly gatewayRoutes: readonly FastifyPluginAsync<{ ctx: AppContext }>[];
}

export interface AppServices {
  /** The publish side of the pipeline (absent in an app built without one, as in some tests). */
  readonly pipeline?: PipelineServices;
  readonly accounts: ChannelAccountService;
  readonly templates: TemplateService;
  readonly inbox: InboxStore;
  readonly imBus: ImBus;
  readonly webhooks: StatusWebhookService;
  readonly apiKeys: ApiKeyService;
  /** Every admin change, append-only (src/audit). */
  readonly audit: AuditLog;
  /** Signs and verifies the unsubscribe and preferences links in mails. */
  readonly unsubscribeLinks: UnsubscribeLinks;
  /** The mail suppression list (erased people's entries kept by a keyed hash). */
  readonly suppressions: Suppressions;
  /** Sends one test message through a channel account (absent in an app built without senders). */
  readonly testAccount?: AccountTester;
}

export interface ContextParts {
  config: Config;
  db: Database;
  secrets: LocalSecrets;
  services: AppServices;
  metrics: Registry;
  readiness?: Record<string, ReadinessCheck>;
  gatewayRoutes?: readonly FastifyPluginAsync<{ ctx: AppContext }>[];
}

/** The frozen context; the database is always a readiness check. */
export function createAppContext(parts: ContextParts): AppContext {
  return Object.freeze({
    config: parts.config,
    db: parts.db,
    secrets: parts.secrets,
    authenticate: createAuthenticate(parts.secrets.adminTokens, parts.services.apiKeys),
    readiness: Object.freeze({ database: () => parts.db.ping(), ...parts.readiness }),
    metrics: parts.metrics,
    services: parts.services,
    gatewayRoutes: Object.freeze([...(parts.gatewayRoutes ?? [])]),
  });
}
