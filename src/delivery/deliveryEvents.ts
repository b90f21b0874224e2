import { insertEventsFrom } from '../events/eventLog';

/** What a CTE that changed deliveries must RETURN for deliveryEventsFrom. */
export const CHANGED_DELIVERY_COLUMNS = `d.id, d."messageId", d."templateCode", d.channel, d."userId", d.status, d.attempts, d.reason`;

/**
 * The event-appending CTE body for deliveries a statement changed: `delivery.<status>` each, keyed by
 * delivery, status and attempt so that a change recorded twice (a redelivered envelope, a send recorded in
 * its own transaction and again with the batch) is announced once. `changed` names a CTE returning
 * CHANGED_DELIVERY_COLUMNS; `where` filters its rows.
 */
export function deliveryEventsFrom(changed: string, where = 'true'): string {
  return insertEventsFrom(
    `SELECT 'delivery.' || c.status AS type, c."messageId", c.id AS "deliveryId", c."templateCode",
            jsonb_build_object('status', c.status, 'channel', c.channel, 'userId', c."userId",
                               'attempt', c.attempts, 'reason', c.reason) AS payload,
            'delivery:' || c.id || ':' || c.status || ':' || c.attempts AS key
       FROM ${changed} c WHERE ${where}`,
  );
}

/**
 * The event-appending CTE body for what the user did with an in-site delivery's item (`delivery.seen`,
 * `delivery.actioned`), which changes no status: one event per delivery and kind, ever. For `actioned`,
 * `changed` also returns the action's key as `action`.
 */
export function deliveryStateEventsFrom(changed: string, kind: 'seen' | 'actioned'): string {
  const action = kind === 'actioned' ? `, 'action', c.action` : '';
  return insertEventsFrom(
    `SELECT 'delivery.${kind}' AS type, c."messageId", c.id AS "deliveryId", c."templateCode",
            jsonb_build_object('status', c.status, 'channel', c.channel, 'userId', c."userId"${action}) AS payload,
            'delivery:' || c.id || ':${kind}' AS key
       FROM ${changed} c`,
  );
}

/**
 * The event-appending CTE body for messages a statement changed: `message.<status>`. `changed` returns
 * id, "templateCode", status, reason; `key` is an SQL expression over `c` (NULL: every change is an event).
 */
export function messageEventsFrom(changed: string, where: string, key: string): string {
  return insertEventsFrom(
    `SELECT 'message.' || c.status AS type, c.id AS "messageId", NULL::uuid AS "deliveryId", c."templateCode",
            jsonb_build_object('status', c.status, 'reason', c.reason) AS payload, ${key} AS key
       FROM ${changed} c WHERE ${where}`,
  );
}
