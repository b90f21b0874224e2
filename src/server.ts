import pino from 'pino';
import { buildApp } from './app';
import type { Config } from './config/loadConfig';
import { loggerOptions } from './http/logger';
import { startRuntime } from './runtime';
import { traceLogFields } from './tracing/logFields';
import { startTracing, tracesEndpoint } from './tracing/tracing';

/** `herald start`: starts the configured roles, listens, and shuts down in order on SIGTERM/SIGINT. */
export async function startServer(config: Config): Promise<void> {
  const traced = tracesEndpoint(config) !== undefined;
  const log = pino({
    ...(loggerOptions(config.LOG_LEVEL) as pino.LoggerOptions),
    ...(traced ? { mixin: traceLogFields } : {}),
  });
  // Before anything opens a span; without an OTLP endpoint this starts nothing.
  const tracing = startTracing(config, log);
  if (tracing.enabled) log.info({ endpoint: tracing.endpoint }, 'tracing: exporting spans over OTLP');
  const runtime = await startRuntime(config, log);
  const { secrets } = runtime.ctx;
  if (secrets.adminTokenFile) {
    log.warn(
      { file: secrets.adminTokenFile },
      'no HERALD_ADMIN_TOKENS set: generated an admin token, read it from this file',
    );
  }
  const app = await buildApp(runtime.ctx, { loggerInstance: log });
  await app.listen({ port: config.PORT, host: config.HOST });
  log.info({ roles: config.HERALD_ROLES, port: config.PORT }, 'herald started');

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      log.error('shutdown grace time exceeded; exiting');
      process.exit(1);
    }, config.HERALD_SHUTDOWN_GRACE_MS);
    force.unref();
    try {
      // Stop consuming and finish in-flight work first, so its acks still go out; then the HTTP server
      // and sockets; then pools, broker and database.
      await runtime.drain();
      await app.close();
      await runtime.close();
      await tracing.shutdown();
      log.info('stopped cleanly');
      process.exit(0);
    } catch (err) {
      log.error({ err }, 'error during shutdown');
      process.exit(1);
    }
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}
