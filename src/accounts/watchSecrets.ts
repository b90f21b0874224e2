import type { AppContext } from '../appContext';
import { createSecretHealth, type SecretHealth } from './secretHealth';

/** The context's secret health: its counter on /metrics and its check on /ready. */
export function watchSecrets(ctx: AppContext): SecretHealth {
  const health = createSecretHealth(ctx.metrics);
  ctx.readiness.secrets = health.readiness;
  return health;
}
