import axios from 'axios';
import type { FastifyBaseLogger } from 'fastify';
import type { SecretBox } from '../accounts/secretBox';
import type { StatusEventBody } from '../contract/statusWebhook';
import type { TransactionalSqlClient } from '../db/sqlClient';
import { latestSeq, readEventsAfter } from '../events/eventLog';
import type { EventType, StatusEvent } from '../events/eventTypes';
import { sequenceEvents } from '../events/sequencer';
import { redactUrl } from '../http/redactUrl';
import type { ClaimedJob } from '../scheduler/jobStore';
import type { JobOutcome } from '../scheduler/scheduler';
import type { EgressGuard } from '../senders/egress';
import { signatureHeader, SIGNATURE_HEADER } from './signature';

export interface WebhookDeliveryOptions {
  sql: TransactionalSqlClient;
  secretBox: SecretBox;
  egress: EgressGuard;
  log: FastifyBaseLogger;
  /** HERALD_STATUS_WEBHOOK_RETRY_DELAYS: the wait after the n-th failure in a row (the last repeats). */
  retryDelays: readonly number[];
  /** HERALD_STATUS_WEBHOOK_MAX_FAILURES: failures in a row that disable an endpoint. */
  maxFailures: number;
  timeoutMs: number;
  /** How soon an endpoint with nothing to send looks at the log again. */
  pollMs: number;
  /** Events sent per run before the row is released (others' turn). */
  batch?: number;
  onAttempt?: (outcome: 'delivered' | 'failed') => void;
}

interface Endpoint {
  id: string;
  url: string;
  events: EventType[];
  templates: string[];
  secret: string;
  enabled: boolean;
  consecutiveFailures: number;
  cursor: string;
}

type Answer = { ok: true; statusCode: number } | { ok: false; statusCode?: number; error: string };

export function bodyOf(e: StatusEvent): StatusEventBody {
  return {
    id: e.id,
    type: e.type,
    seq: e.seq ?? 0,
    occurredAt: e.occurredAt.toISOString(),
    messageId: e.messageId,
    deliveryId: e.deliveryId,
    templateCode: e.templateCode,
    data: e.payload,
  };
}

/**
 * The scheduler handler of one endpoint's loop: number what committed, then POST the endpoint's next events
 * in log order, one request each, signed. The cursor moves past an event only once the endpoint answered
 * 2xx (at least once: a crash in between sends it again, with the same id). A failure holds the line and
 * waits its backoff; `maxFailures` in a row disable the endpoint with the reason. Every request leaves an
 * attempt row. The loop row stays while the endpoint is enabled; it goes when it is disabled or deleted.
 */
export function createWebhookJobHandler(
  opts: WebhookDeliveryOptions,
): (job: ClaimedJob) => Promise<JobOutcome> {
  const { sql } = opts;
  const batch = opts.batch ?? 100;
  const after = (ms: number) => ({ retryAt: new Date(Date.now() + ms) });

  async function post(hook: Endpoint, secret: string, e: StatusEvent): Promise<Answer> {
    const body = JSON.stringify(bodyOf(e));
    const timestamp = Math.floor(Date.now() / 1000);
    try {
      opts.egress.checkUrl(hook.url);
      const res = await axios.post<string>(hook.url, body, {
        headers: {
          'content-type': 'application/json',
          [SIGNATURE_HEADER]: signatureHeader(secret, timestamp, body),
          'herald-event-id': e.id,
          'herald-event-type': e.type,
          'user-agent': 'Herald-Status-Webhooks/1',
        },
        timeout: opts.timeoutMs,
        transformRequest: [(d: unknown) => d],
        transformResponse: [(d: unknown) => d],
        responseType: 'text',
        validateStatus: () => true,
        maxRedirects: 0,
        lookup: opts.egress.lookupFor(hook.url),
      });
      if (res.status >= 200 && res.status < 300) return { ok: true, statusCode: res.status };
      const text = typeof res.data === 'string' ? res.data.slice(0, 200) : '';
      return { ok: false, statusCode: res.status, error: `HTTP ${res.status}${text ? `: ${text}` : ''}` };
    } catch (err) {
      const cause = (err as { cause?: unknown }).cause;
      const e2 = cause instanceof Error && cause.name === 'EgressRefusedError' ? cause : (err as Error);
      const code = (e2 as NodeJS.ErrnoException).code;
      return { ok: false, error: `${code ? `${code}: ` : ''}${e2.message}`.slice(0, 500) };
    }
  }

  async function record(hook: Endpoint, e: StatusEvent, answer: Answer, ms: number): Promise<boolean> {
    const failures = answer.ok ? 0 : hook.consecutiveFailures + 1;
    const disable = !answer.ok && failures >= opts.maxFailures;
    const reason = disable
      ? `disabled after ${failures} failed attempts in a row; last: ${answer.ok ? '' : answer.error}`
      : null;
    await sql.query(
      `WITH attempt AS (
         INSERT INTO "StatusWebhookAttempt" ("webhookId", "eventId", "eventType", "messageId", attempt, outcome, "statusCode", error, "durationMs")
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       )
       UPDATE "StatusWebhook" SET "consecutiveFailures" = $10,
         cursor = CASE WHEN $6 = 'delivered' THEN GREATEST(cursor, $11::bigint) ELSE cursor END,
         enabled = enabled AND NOT $12::boolean,
         "disabledReason" = CASE WHEN $12::boolean THEN $13 ELSE "disabledReason" END,
         "disabledAt" = CASE WHEN $12::boolean THEN now() ELSE "disabledAt" END,
         "updatedAt" = now()
       WHERE id = $1`,
      [
        hook.id,
        e.id,
        e.type,
        e.messageId,
        hook.consecutiveFailures + 1,
        answer.ok ? 'delivered' : 'failed',
        answer.statusCode ?? null,
        answer.ok ? null : answer.error,
        Math.round(ms),
        failures,
        e.seq ?? 0,
        disable,
        reason,
      ],
    );
    opts.onAttempt?.(answer.ok ? 'delivered' : 'failed');
    if (disable)
      opts.log.warn({ webhookId: hook.id, url: redactUrl(hook.url), reason }, 'status webhook disabled');
    return disable;
  }

  return async (job) => {
    const id = job.key ?? '';
    const found = await sql.query<Endpoint>(
      `SELECT id, url, events, templates, secret, enabled, "consecutiveFailures", cursor::text AS cursor
         FROM "StatusWebhook" WHERE id = $1::uuid`,
      [id],
    );
    let hook = found.rows[0];
    if (!hook || !hook.enabled) return;
    const secret = opts.secretBox.open(hook.secret).secret ?? '';
    // The sequencer numbers 1,000 events a call: past a backlog (events appended while no endpoint
    // existed, which a new endpoint starts after), keep on until something lies beyond this cursor.
    let numbered = await sequenceEvents(sql);
    let top = await latestSeq(sql);
    while (numbered > 0 && top <= Number(hook.cursor)) {
      numbered = await sequenceEvents(sql);
      top = await latestSeq(sql);
    }
    const events = await readEventsAfter(sql, {
      afterSeq: Number(hook.cursor),
      upToSeq: top,
      limit: batch,
      types: hook.events,
      templates: hook.templates,
    });
    for (const e of events) {
      const started = performance.now();
      const answer = await post(hook, secret, e);
      const disabled = await record(hook, e, answer, performance.now() - started);
      if (disabled) return;
      if (!answer.ok) {
        const delays = opts.retryDelays;
        return after(delays[Math.min(hook.consecutiveFailures, delays.length - 1)] ?? 1000);
      }
      hook = { ...hook, consecutiveFailures: 0, cursor: String(e.seq) };
    }
    if (events.length === batch) return after(0);
    // Everything up to `top` that the filters let through has gone: skip the rest of the range.
    if (top > Number(hook.cursor))
      await sql.query(
        `UPDATE "StatusWebhook" SET cursor = GREATEST(cursor, $2::bigint) WHERE id = $1::uuid`,
        [id, top],
      );
    return after(opts.pollMs);
  };
}
