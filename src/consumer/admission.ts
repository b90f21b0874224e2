import { createHash } from 'node:crypto';
import type { Envelope } from '../contract/envelope';
import type { SqlClient } from '../db/sqlClient';
import type { PlannedDelivery } from '../delivery/deliveryState';
import { isDigestMessage } from '../delivery/digestState';
import type { ResolvedTemplate } from './dispatchTypes';
import { GROUP_KEY, planKey, type Plan } from './planDeliveries';
import type { RenderCache } from './renderCache';
import type { Suppressions } from '../audience/suppressionList';
import { planSuppressedSkipped } from './suppressedDeliveries';

/** JSON with object keys sorted: the same content is the same text whatever order it was built in. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * Marks the planned deliveries with the template's deduplication and throttle, which the statement that
 * records them checks against the counts every instance shares (src/delivery/plannedInsert.ts): no round
 * trip of their own. In the documented order (critical → preference → deduplication → throttle → digest
 * → quiet hours) a critical template skips both, and what preference (or a missing address) skipped is
 * not counted; nor is a delivery to a suppressed address, which is skipped here, before it would use the
 * budget (without a throttle or deduplication it is skipped as it is sent). A digest's events are compared by their data (the parts are written for the digest, so
 * each event alone renders alike), and the digest message a flush sends is not checked again.
 */
export async function withAdmission(
  env: Envelope,
  template: ResolvedTemplate,
  plan: Plan,
  renders: RenderCache,
  deps: { sql: SqlClient; suppressions: Suppressions },
): Promise<PlannedDelivery[]> {
  const { throttle, dedupe } = template;
  const { sql } = deps;
  if (template.critical || (!throttle && !dedupe)) return plan.planned;
  if (template.digest && (await isDigestMessage(sql, env.id))) return plan.planned;
  const recipientOf = (p: PlannedDelivery) =>
    p.recipientKey === GROUP_KEY ? undefined : plan.recipients.get(planKey(p.channel, p.recipientKey));
  const planned = await planSuppressedSkipped(sql, deps.suppressions, plan.planned, recipientOf, false);
  const value = throttle?.keyOf(env.data) ?? '';
  // The key is part of an index entry, which has a size limit: a long value is kept as its hash.
  const key = value.length > 200 ? `sha256:${sha256(value)}` : value;
  const eventHash = dedupe && template.digest ? sha256(canonicalJson(env.data)) : undefined;

  const contentHash = async (p: PlannedDelivery): Promise<string | undefined> => {
    if (eventHash) return eventHash;
    try {
      return sha256(canonicalJson((await renders(recipientOf(p)))[p.channel]));
    } catch {
      // Not renderable: the send fails it with the render's error, which no duplicate check should hide.
      return undefined;
    }
  };
  return Promise.all(
    planned.map(async (p): Promise<PlannedDelivery> => {
      if (p.status === 'skipped') return p;
      const hash = dedupe && (await contentHash(p));
      return {
        ...p,
        ...(throttle ? { throttle: { key, limit: throttle.limit, windowMs: throttle.windowMs } } : {}),
        ...(dedupe && hash ? { dedupe: { contentHash: hash, windowMs: dedupe.windowMs } } : {}),
      };
    }),
  );
}
