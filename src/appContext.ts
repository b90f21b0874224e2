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

/** A readiness probe: resolves when the part is reachable, throws with the reason otherwise. */
export type ReadinessCheck = () => Promise<void>;

/**
 * Everything the HTTP routes need, built by src/runtime.ts (or a test) before buildApp. Parts of the
 * pipeline register their services here as they are started.
 */
export interface AppContext {
  config: Config;
  db: Database;
  secrets: LocalSecrets;
  isAdmin(token: string | undefined): boolean;
  readiness: Record<string, ReadinessCheck>;
  /** Prometheus registry served at /metrics. */
  metrics: Registry;
  services: AppServices;
  /** Route plugins outside /v1's admin scope (the WebSocket gateway, the demo page). */
  extraRoutes?: FastifyPluginAsync<{ ctx: AppContext }>[];
}

/** Filled by each module's factory; see src/runtime.ts. */
export interface AppServices {
  /** Present where the pipeline runs (see src/consumer/pipeline.ts). */
  pipeline?: PipelineServices;
  accounts: ChannelAccountService;
  templates: TemplateService;
  inbox: InboxStore;
  /** In-process by default; createImRuntime swaps in the AMQP bus when a broker is configured. */
  imBus: ImBus;
}
