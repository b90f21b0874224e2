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
import { createAdminTokenCheck } from './http/adminAuth';

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
  isAdmin(token: string | undefined): boolean;
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
    isAdmin: createAdminTokenCheck(parts.secrets.adminTokens),
    readiness: Object.freeze({ database: () => parts.db.ping(), ...parts.readiness }),
    metrics: parts.metrics,
    services: parts.services,
    gatewayRoutes: Object.freeze([...(parts.gatewayRoutes ?? [])]),
  });
}
