import type { FastifyBaseLogger } from 'fastify';
import type { Envelope, Recipient } from '../contract/envelope';
import type { SendJob, SendOutcome, Sender } from '../senders/types';
import type { ConcurrencyLimit } from './concurrencyLimit';
import type { AttemptResult, DeliveryRow } from './deliveryLog';
import type { AccountLookup, RenderedParts, ResolvedTemplate, SenderRegistry } from './dispatchTypes';
import { assertSafeItemUrl, prepareFailure } from './prepareFailure';
import { maxAttempts, retryDelayAfter } from './retryPolicy';

export interface SendDeps {
  accounts: AccountLookup;
  senders: SenderRegistry;
  limits: ReadonlyMap<string, ConcurrencyLimit>;
  retryDelays: readonly number[];
  now(): number;
  log?: FastifyBaseLogger;
}

/** A job, or the outcome decided without sending (no account, render failure). */
type Prepared =
  { row: DeliveryRow; job: SendJob } | { row: DeliveryRow; outcome: SendOutcome; skip?: string };

const mentionsOf = (to: readonly Recipient[]) => ({
  atMobiles: to.flatMap((r) => (r.mobile ? [r.mobile] : [])),
  atUserIds: to.flatMap((r) => (r.dingtalkUserId ? [r.dingtalkUserId] : [])),
});

async function prepare(
  row: DeliveryRow,
  env: Envelope,
  parts: RenderedParts,
  deps: SendDeps,
): Promise<Prepared> {
  const base = { deliveryId: row.id, messageId: env.id, attempt: row.attempts + 1 };
  const recipient = env.to[row.recipientIndex];
  try {
    if (row.channel === 'mail' && parts.mail && recipient?.email) {
      const account = await deps.accounts.getSmtpAccount(parts.mail.account);
      const { subject, html, text } = parts.mail;
      return {
        row,
        job: {
          ...base,
          channel: 'mail',
          account,
          to: { email: recipient.email, name: recipient.name },
          subject,
          html,
          text,
        },
      };
    }
    if (row.channel === 'im' && parts.im && recipient?.userId) {
      assertSafeItemUrl(parts.im.url);
      return { row, job: { ...base, channel: 'im', userId: recipient.userId, ...parts.im } };
    }
    if (row.channel === 'dingtalk' && parts.dingtalk) {
      const { account: accountName, ...post } = parts.dingtalk;
      if (!accountName) {
        return {
          row,
          outcome: {
            kind: 'permanent',
            code: 'no_account',
            message: 'the template names no DingTalk robot account',
          },
        };
      }
      const account = await deps.accounts.getRobotAccount(accountName);
      return {
        row,
        job: {
          ...base,
          channel: 'dingtalk',
          account,
          ...post,
          ...mentionsOf(env.to),
          isAtAll: env.atAll ?? false,
        },
      };
    }
    return {
      row,
      outcome: {
        kind: 'permanent',
        code: 'nothing_to_send',
        message: `the template has no ${row.channel} part for this recipient`,
      },
    };
  } catch (err) {
    return { row, outcome: prepareFailure(err, deps.log) };
  }
}

interface Timed {
  outcome: SendOutcome;
  durationMs: number;
}

const failedWith = (err: unknown): SendOutcome => ({
  kind: 'retryable',
  code: 'sender_error',
  message: (err as Error).message,
});

async function runSender(
  sender: Sender,
  jobs: SendJob[],
  limit: ConcurrencyLimit | undefined,
  now: () => number,
): Promise<Timed[]> {
  const limited = <T>(fn: () => Promise<T>) => (limit ? limit(fn) : fn());
  if (sender.sendMany && jobs.length > 1) {
    const sendMany = sender.sendMany.bind(sender);
    const started = now();
    const outcomes = await limited(() => sendMany(jobs)).catch((err: unknown) =>
      jobs.map(() => failedWith(err)),
    );
    const each = (now() - started) / jobs.length;
    return outcomes.map((outcome) => ({ outcome, durationMs: each }));
  }
  return Promise.all(
    jobs.map((job) =>
      limited(async () => {
        const started = now();
        const outcome = await sender.send(job).catch(failedWith);
        return { outcome, durationMs: now() - started };
      }),
    ),
  );
}

function toResult(row: DeliveryRow, outcome: SendOutcome, durationMs: number, deps: SendDeps): AttemptResult {
  const attempt = row.attempts + 1;
  const base = { deliveryId: row.id, attempt, durationMs };
  switch (outcome.kind) {
    case 'sent':
      return { ...base, outcome: 'sent', providerId: outcome.providerId, status: 'sent' };
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

/** Renders, sends and classifies the claimed deliveries of one envelope; returns one attempt row each. */
export async function sendDeliveries(
  env: Envelope,
  template: ResolvedTemplate,
  claimed: readonly DeliveryRow[],
  deps: SendDeps,
): Promise<AttemptResult[]> {
  const renders = new Map<number, Promise<RenderedParts>>();
  const renderFor = (index: number) => {
    let p = renders.get(index);
    if (!p) {
      const recipient = index >= 0 ? env.to[index] : undefined;
      p = template.render({ data: env.data, recipient, locale: recipient?.locale ?? env.locale });
      renders.set(index, p);
    }
    return p;
  };

  const prepared = await Promise.all(
    claimed.map(async (row): Promise<Prepared> => {
      try {
        return await prepare(row, env, await renderFor(row.recipientIndex), deps);
      } catch (err) {
        return {
          row,
          outcome: { kind: 'permanent', code: 'render_failed', message: (err as Error).message },
        };
      }
    }),
  );

  const results: AttemptResult[] = [];
  const byChannel = new Map<string, { rows: DeliveryRow[]; jobs: SendJob[] }>();
  for (const p of prepared) {
    if ('outcome' in p) {
      results.push(
        p.skip
          ? {
              deliveryId: p.row.id,
              attempt: p.row.attempts,
              durationMs: 0,
              status: 'skipped',
              reason: p.skip,
            }
          : toResult(p.row, p.outcome, 0, deps),
      );
      continue;
    }
    const group = byChannel.get(p.job.channel) ?? { rows: [], jobs: [] };
    group.rows.push(p.row);
    group.jobs.push(p.job);
    byChannel.set(p.job.channel, group);
  }

  await Promise.all(
    [...byChannel].map(async ([channel, { rows, jobs }]) => {
      const sender = deps.senders.get(channel as SendJob['channel']);
      const timed: Timed[] = sender
        ? await runSender(sender, jobs, deps.limits.get(channel), deps.now)
        : jobs.map(() => ({
            outcome: {
              kind: 'permanent',
              code: 'channel_unavailable',
              message: `no ${channel} sender is running`,
            },
            durationMs: 0,
          }));
      rows.forEach((row, i) => {
        const t = timed[i] as Timed;
        results.push(toResult(row, t.outcome, t.durationMs, deps));
      });
    }),
  );
  return results;
}
