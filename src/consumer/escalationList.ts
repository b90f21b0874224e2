import type { ChannelName } from '../contract/envelope';
import type { EscalateSpec } from '../contract/templatePolicy';
import type { SqlClient } from '../db/sqlClient';
import type { DeliveryStatus, EscalationState, FallbackState, MessageStatus } from '../delivery/statuses';
import { ESCALATION_JOB, watchedChannel } from './laterChannels';

/**
 * What GET /v1/escalations reads: the messages whose template version declares `escalate` or `fallback`
 * (src/consumer/laterChannels.ts), with where each stands. A pending escalation is its `escalation` job
 * (keyed by the message id, due `after` the dispatch); when the check runs the job goes, and what it did
 * is on the deliveries it added (their cause `escalation: …`), or nothing when the condition was met. A
 * fallback is added as soon as a first delivery fails for good (cause `fallback: …`).
 */

export interface EscalationFilters {
  template?: string;
  /** A message with a delivery for this user. */
  userId?: string;
  state?: EscalationState | FallbackState;
  after?: { at: Date; id: string };
  limit: number;
}

export interface FollowUpDelivery {
  id: string;
  channel: ChannelName;
  recipientIndex: number | null;
  userId: string | null;
  status: DeliveryStatus;
  reason: string | null;
  cause: string | null;
  readAt: Date | null;
  updatedAt: Date;
}

export interface EscalationRow {
  messageId: string;
  templateCode: string;
  templateVersion: number;
  messageStatus: MessageStatus;
  escalation:
    | (EscalateSpec & {
        watching: ChannelName | null;
        dueAt: Date | null;
        attempts: number;
        lastError: string | null;
        state: EscalationState;
      })
    | null;
  fallback: { channels: ChannelName[]; state: FallbackState } | null;
  deliveries: FollowUpDelivery[];
  createdAt: Date;
}

interface MessageRow {
  messageId: string;
  templateCode: string;
  templateVersion: number;
  messageStatus: MessageStatus;
  escalate: EscalateSpec | null;
  fallback: ChannelName[] | null;
  dueAt: Date | null;
  attempts: number | null;
  lastError: string | null;
  escalationState: EscalationState | null;
  fallbackState: FallbackState | null;
  createdAt: Date;
}

/** Statuses of a message that has nothing left to send (a fallback can no longer be needed). */
const FINISHED = `('completed', 'partially_failed', 'failed', 'cancelled', 'rejected', 'digested')`;

/** Deliveries listed per message: the direct recipients' and those added later, not a topic's members. */
export const DELIVERIES_PER_MESSAGE = 50;

export async function listEscalations(sql: SqlClient, f: EscalationFilters): Promise<EscalationRow[]> {
  const { rows } = await sql.query<MessageRow>(
    `SELECT * FROM (
       SELECT m.id AS "messageId", m."templateCode", m."templateVersion", m.status::text AS "messageStatus",
              m."createdAt", tv.policy->'escalate' AS escalate, tv.policy->'fallback' AS fallback,
              j."dueAt", j.attempts, j."lastError",
              CASE WHEN tv.policy->'escalate' IS NULL THEN NULL
                   WHEN j.id IS NOT NULL THEN 'pending'
                   WHEN EXISTS (SELECT 1 FROM "Delivery" d WHERE d."messageId" = m.id AND d.cause LIKE 'escalation:%')
                     THEN 'escalated'
                   WHEN m.status = 'cancelled' THEN 'cancelled'
                   ELSE 'met' END AS "escalationState",
              CASE WHEN tv.policy->'fallback' IS NULL THEN NULL
                   WHEN EXISTS (SELECT 1 FROM "Delivery" d WHERE d."messageId" = m.id AND d.cause LIKE 'fallback:%')
                     THEN 'fallen_back'
                   WHEN m.status::text IN ${FINISHED} THEN 'not_needed'
                   ELSE 'armed' END AS "fallbackState"
         FROM "Message" m
         JOIN "Template" t ON t.code = m."templateCode"
         JOIN "TemplateVersion" tv ON tv."templateId" = t.id AND tv.version = m."templateVersion"
         LEFT JOIN "ScheduledJob" j ON j.kind = '${ESCALATION_JOB}' AND j.key = m.id
        WHERE (tv.policy->'escalate' IS NOT NULL OR tv.policy->'fallback' IS NOT NULL)
          AND ($1::text IS NULL OR m."templateCode" = $1)
          AND ($2::text IS NULL OR EXISTS (SELECT 1 FROM "Delivery" d WHERE d."messageId" = m.id AND d."userId" = $2))
          AND ($4::timestamptz IS NULL OR (m."createdAt", m.id) < ($4, $5::text))
     ) s
     WHERE $3::text IS NULL OR s."escalationState" = $3 OR s."fallbackState" = $3
     ORDER BY s."createdAt" DESC, s."messageId" DESC
     LIMIT $6`,
    [
      f.template ?? null,
      f.userId ?? null,
      f.state ?? null,
      f.after?.at.toISOString() ?? null,
      f.after?.id ?? null,
      f.limit,
    ],
  );
  const deliveries = await deliveriesOf(
    sql,
    rows.map((r) => r.messageId),
  );
  return rows.map((r) => {
    const own = deliveries.filter((d) => d.messageId === r.messageId).map(({ messageId: _m, ...d }) => d);
    return {
      messageId: r.messageId,
      templateCode: r.templateCode,
      templateVersion: r.templateVersion,
      messageStatus: r.messageStatus,
      escalation:
        r.escalate && r.escalationState
          ? {
              ...r.escalate,
              watching:
                watchedChannel(
                  r.escalate,
                  own.map((d) => d.channel),
                ) ?? null,
              dueAt: r.dueAt,
              attempts: r.attempts ?? 0,
              lastError: r.lastError,
              state: r.escalationState,
            }
          : null,
      fallback: r.fallback && r.fallbackState ? { channels: r.fallback, state: r.fallbackState } : null,
      deliveries: own,
      createdAt: r.createdAt,
    };
  });
}

async function deliveriesOf(sql: SqlClient, messageIds: readonly string[]) {
  if (!messageIds.length) return [];
  const { rows } = await sql.query<FollowUpDelivery & { messageId: string }>(
    `SELECT "messageId", id::text, channel::text AS channel, "recipientIndex", "userId", status::text AS status,
            reason, cause, "readAt", "updatedAt"
       FROM (SELECT d.*, row_number() OVER (PARTITION BY d."messageId" ORDER BY d."createdAt", d.id) AS n
               FROM "Delivery" d
              WHERE d."messageId" = ANY($1::text[]) AND (d."recipientIndex" IS NOT NULL OR d.cause IS NOT NULL)) x
      WHERE n <= ${DELIVERIES_PER_MESSAGE}
      ORDER BY "messageId", "createdAt", id`,
    [messageIds],
  );
  return rows;
}
