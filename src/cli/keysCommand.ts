import { cliActor, writeAuditRow } from '../audit/auditLog';
import { createApiKeyService } from '../auth/apiKeys';
import { SCOPES, scopeSchema } from '../auth/scopes';
import { announceChange } from '../broker/changeBroadcast';
import { topologyNames } from '../broker/topologyNames';
import type { Config } from '../config/loadConfig';
import { NotFoundError } from '../errors';
import { withInfra } from './withInfra';

const USAGE = `usage: herald keys create <name> <scope>[,<scope>] | herald keys list | herald keys revoke <id>
  scopes: ${SCOPES.join(', ')}`;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** `herald keys create|list|revoke`: scoped API keys, as POST/GET/DELETE /v1/keys manage them. */
export async function keysCommand(
  config: Config,
  [action, ...args]: string[],
  out: (line: string) => void,
): Promise<number> {
  if (action === 'create') {
    const [name, scopeList] = args;
    const scopes = (scopeList ?? '').split(',').filter(Boolean);
    const bad = scopes.filter((s) => !scopeSchema.safeParse(s).success);
    if (!name || !scopes.length || bad.length) {
      out(bad.length ? `unknown scope ${bad.join(', ')}; the scopes are ${SCOPES.join(', ')}` : USAGE);
      return 2;
    }
  } else if (action === 'revoke') {
    if (!args[0] || !UUID.test(args[0])) {
      out(args[0] ? `"${args[0]}" is not a key id; herald keys list shows them` : USAGE);
      return 2;
    }
  } else if (action !== 'list') {
    out(USAGE);
    return 2;
  }
  return withInfra(config, async (db, broker) => {
    const keys = createApiKeyService({ prisma: db.prisma, cacheTtlMs: 0 });
    const actor = cliActor();
    if (action === 'create') {
      const [name = '', scopeList = ''] = args;
      const { key, view } = await keys.create(
        { name, scopes: scopeList.split(',').map((s) => scopeSchema.parse(s)) },
        (tx, after) =>
          writeAuditRow(tx, {
            actor,
            action: 'apiKey.create',
            target: { type: 'apiKey', id: after.id },
            after,
          }),
      );
      out(`created key ${view.id} "${view.name}" (${view.scopes.join(', ')}); it is shown this once:`);
      out(key);
      return 0;
    }
    if (action === 'revoke') {
      const id = args[0] ?? '';
      try {
        const { view } = await keys.revoke(id, (tx, after) =>
          writeAuditRow(tx, { actor, action: 'apiKey.revoke', target: { type: 'apiKey', id }, after }),
        );
        if (broker)
          await announceChange(broker, topologyNames(config.HERALD_QUEUE_PREFIX).events, 'apiKey', id);
        out(
          `revoked ${view.id} "${view.name}"${broker ? '' : ` (instances notice within HERALD_API_KEY_CACHE_MS without AMQP_URL)`}`,
        );
        return 0;
      } catch (err) {
        if (!(err instanceof NotFoundError)) throw err;
        out(err.message);
        return 1;
      }
    }
    const items = await keys.list({ limit: 500 });
    if (!items.length) out('no API keys');
    for (const k of items)
      out(
        `${k.id}  ${k.createdAt.toISOString()}  ${k.scopes.join(',')}  ${k.name}  last used ${k.lastUsedAt?.toISOString() ?? 'never'}${k.revokedAt ? `  revoked ${k.revokedAt.toISOString()}` : ''}`,
      );
    return 0;
  });
}
