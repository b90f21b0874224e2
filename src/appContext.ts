import type { FastifyPluginAsync } from 'fastify';
import type { Config } from './config/loadConfig';
import type { LocalSecrets } from './config/localSecrets';
import type { Database } from './db/database';

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
  services: AppServices;
  /** Route plugins outside /v1's admin scope (the WebSocket gateway, the demo page). */
  extraRoutes?: FastifyPluginAsync<{ ctx: AppContext }>[];
}

/** Filled by each module's factory; see src/runtime.ts. */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface AppServices {}
