import type { Channel, ChannelModel } from 'amqplib';
import type { BrokerConnection } from '../broker/brokerConnection';
import type { TopologyNames } from '../broker/topologyNames';
import { routingKeyFor } from '../contract/envelope';
import type { SqlClient } from '../db/sqlClient';

/**
 * Urgent first (issue 15): the envelopes of a critical template go to herald.dispatch.critical because its
 * routing key, `notify.<code>`, is bound there on herald.route.critical. Binding by template in the broker,
 * rather than choosing a key when publishing, keeps every publisher as it is: the SDK, the HTTP API and a
 * business service's own AMQP client all publish `notify.<code>` and never need to know which templates
 * are critical. Template codes hold no `*` or `#` (TEMPLATE_CODE_PATTERN), so each key binds one code.
 */

/** Every template code, and whether its active version is critical (an archived template is not). */
async function templateCriticality(
  sql: SqlClient,
  code?: string,
): Promise<Array<{ code: string; critical: boolean }>> {
  const { rows } = await sql.query<{ code: string; critical: boolean }>(
    `SELECT t.code, COALESCE(t.status = 'active' AND v.critical, false) AS critical
       FROM "Template" t
       LEFT JOIN "TemplateVersion" v ON v."templateId" = t.id AND v.version = t."currentVersion"
      ${code === undefined ? '' : 'WHERE t.code = $1'}`,
    code === undefined ? [] : [code],
  );
  return rows;
}

async function applyRoutes(
  ch: Channel,
  names: TopologyNames,
  templates: ReadonlyArray<{ code: string; critical: boolean }>,
): Promise<void> {
  for (const t of templates) {
    const key = routingKeyFor(t.code);
    // Both are no-ops when the binding already is (or is not) there, so this is safe to repeat.
    if (t.critical) await ch.bindQueue(names.critical, names.routeCritical, key);
    else await ch.unbindQueue(names.critical, names.routeCritical, key);
  }
}

/** Runs `fn` on a channel of its own, so a refused binding closes only that channel. */
async function onOwnChannel(model: ChannelModel, fn: (ch: Channel) => Promise<void>): Promise<void> {
  const ch = await model.createChannel();
  ch.on('error', () => undefined);
  try {
    await fn(ch);
  } finally {
    await ch.close().catch(() => undefined);
  }
}

/**
 * Brings the critical bindings in line with the templates: every consumer runs it after declaring the
 * topology (at start and after each reconnect). Returns how many templates are critical.
 */
export async function syncCriticalRoutes(
  model: ChannelModel,
  names: TopologyNames,
  sql: SqlClient,
): Promise<number> {
  const templates = await templateCriticality(sql);
  await onOwnChannel(model, (ch) => applyRoutes(ch, names, templates));
  return templates.filter((t) => t.critical).length;
}

/**
 * Rebinds one template's key after it changed (created, updated, activated, archived). Fails when no
 * consumer has declared the topology yet; that consumer binds it when it starts.
 */
export async function updateCriticalRoute(
  broker: BrokerConnection,
  names: TopologyNames,
  sql: SqlClient,
  code: string,
): Promise<void> {
  const model = broker.current();
  if (!model) throw new Error('the broker is not connected');
  const templates = await templateCriticality(sql, code);
  const found = templates.length ? templates : [{ code, critical: false }];
  await onOwnChannel(model, (ch) => applyRoutes(ch, names, found));
}
