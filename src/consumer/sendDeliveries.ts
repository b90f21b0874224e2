import type { ChannelName, Envelope, Recipient } from '../contract/envelope';
import type { ChannelRuntimes } from '../senders/channelSet';
import type { Channels } from '../senders/registry';
import type { PlannedFollowUp } from '../senders/channel';
import type { SendOutcome } from '../senders/sender';
import type { AttemptResult, DeliveryRow } from '../delivery/deliveryState';
import type { StoredSubscriber } from '../audience/subscriberStore';
import type { RenderedParts, ResolvedTemplate } from './dispatchTypes';
import { maxAttempts, retryDelayAfter } from './retryPolicy';
import { RenderStarvedError } from '../templates/renderBudget';
import { createRenderCache, type RenderCache } from './renderCache';

export interface SendDeps {
  /** Every registered channel bound to its sender (src/senders/channelSet.ts). */
  channels: ChannelRuntimes<Channels>;
  retryDelays: readonly number[];
  now(): number;
}

function toResult(row: DeliveryRow, outcome: SendOutcome, durationMs: number, deps: SendDeps): AttemptResult {
  const attempt = row.attempts + 1;
  const base = { deliveryId: row.id, attempt, durationMs };
  switch (outcome.kind) {
    case 'sent':
      return {
        ...base,
        outcome: 'sent',
        providerId: outcome.providerId,
        status: 'sent',
        attemptRecorded: outcome.attemptRecorded,
      };
    case 'deferred':
      return {
        ...base,
        outcome: 'waiting',
        errorCode: 'waiting',
        errorText: outcome.reason,
        status: 'retrying',
        nextAttemptAt: new Date(deps.now() + outcome.retryAfterMs),
        reason: outcome.reason,
      };
    case 'permanent':
      return {
        ...base,
        outcome: 'permanent',
        errorCode: outcome.code,
        errorText: outcome.message,
        status: 'failed',
        reason: outcome.message,
      };
    case 'retryable': {
      const delay =
        attempt < maxAttempts(deps.retryDelays) ? retryDelayAfter(attempt, deps.retryDelays) : undefined;
      const wait = delay === undefined ? undefined : Math.max(delay, outcome.retryAfterMs ?? 0);
      return {
        ...base,
        outcome: 'retryable',
        errorCode: outcome.code,
        errorText: outcome.message,
        status: wait === undefined ? 'failed' : 'retrying',
        nextAttemptAt: wait === undefined ? undefined : new Date(deps.now() + wait),
        reason:
          wait === undefined ? `gave up after ${attempt} attempts: ${outcome.message}` : outcome.message,
      };
    }
  }
}

/** Who the claimed deliveries are for: each row's recipient, and those a group post mentions. */
export interface SendAudience {
  /** undefined for a group post, or for someone no longer in the audience (erased meanwhile). */
  recipientOf(row: DeliveryRow): Recipient | undefined;
  /** The row's person's directory entry (their timezone and quiet hours), if they have one. */
  subscriberOf?(row: DeliveryRow): StoredSubscriber | undefined;
  mentions: readonly Recipient[];
  /** Renders already made for these recipients (deduplication renders before planning); else made here. */
  renders?: RenderCache;
}

/** Renders, sends and classifies the claimed deliveries of one envelope; returns one attempt row each. */
export async function sendDeliveries(
  env: Envelope,
  template: ResolvedTemplate,
  claimed: readonly DeliveryRow[],
  deps: SendDeps,
  audience: SendAudience,
  followUps?: (planned: PlannedFollowUp[]) => void,
): Promise<AttemptResult[]> {
  const renderFor = audience.renders ?? createRenderCache(env, template);

  // The rendered parts of each claimed delivery; one that fails to render fails alone.
  const rendered = await Promise.all(
    claimed.map(async (row) => {
      try {
        return { row, parts: await renderFor(audience.recipientOf(row)) };
      } catch (err) {
        const message = (err as Error).message;
        const outcome: SendOutcome =
          err instanceof RenderStarvedError
            ? { kind: 'retryable', code: err.code, message }
            : { kind: 'permanent', code: 'render_failed', message };
        return { row, failure: outcome };
      }
    }),
  );

  const results: AttemptResult[] = [];
  const byChannel = new Map<ChannelName, Array<{ row: DeliveryRow; parts: RenderedParts }>>();
  for (const r of rendered) {
    if (r.parts === undefined) {
      results.push(toResult(r.row, r.failure, 0, deps));
      continue;
    }
    const group = byChannel.get(r.row.channel) ?? [];
    group.push({ row: r.row, parts: r.parts });
    byChannel.set(r.row.channel, group);
  }

  const envelope = { to: audience.mentions, atAll: env.atAll ?? false };
  await Promise.all(
    [...byChannel].map(async ([channel, group]) => {
      const runtime = deps.channels.get(channel);
      if (!runtime) throw new Error(`channel ${channel} is not registered`);
      const items = group.map(({ row, parts }) => {
        const recipient = audience.recipientOf(row);
        return {
          base: {
            deliveryId: row.id,
            messageId: env.id,
            attempt: row.attempts + 1,
            ...(template.category ? { templateCategory: template.category } : {}),
            ...(template.critical ? { critical: true } : {}),
            ...(recipient?.userId ? { userId: recipient.userId } : {}),
          },
          parts,
          recipient,
        };
      });
      const outcomes = await runtime.sendBatch(items, envelope, followUps);
      group.forEach(({ row }, i) => {
        const o = outcomes[i];
        if (!o) throw new Error(`channel ${channel} answered fewer results than deliveries`);
        results.push(
          o.kind === 'skipped'
            ? {
                deliveryId: row.id,
                attempt: row.attempts,
                durationMs: 0,
                status: 'skipped',
                reason: o.reason,
              }
            : toResult(row, o.outcome, o.durationMs, deps),
        );
      });
    }),
  );
  return results;
}
