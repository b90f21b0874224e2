import type { Pool } from 'pg';
import type { ReceivedMail, SmtpSink } from '../../senders/support/smtpSink';
import type { ScenarioFigures } from './results';

/** Every mail the sink accepted, stamped with when it arrived, by Message-ID (one per delivery). */
export interface Mailbox {
  arrivals(messageId: string): number[];
  total(): number;
}

/** Stamps the sink's mails as they arrive (the sink keeps them in an array it pushes to). */
export function watchMailbox(sink: SmtpSink): Mailbox {
  const byId = new Map<string, number[]>();
  const stamp = (m: ReceivedMail) => {
    const key = m.messageId ?? '';
    byId.set(key, [...(byId.get(key) ?? []), Date.now()]);
  };
  sink.messages.forEach(stamp);
  const push = sink.messages.push.bind(sink.messages);
  sink.messages.push = (...mails: ReceivedMail[]) => {
    mails.forEach(stamp);
    return push(...mails);
  };
  return {
    arrivals: (id) => byId.get(id) ?? [],
    total: () => sink.messages.length,
  };
}

interface DeliveryFacts {
  id: string;
  messageId: string;
  channel: string;
  status: string;
  sentAttempts: number;
  firstSentAt: Date | null;
  inboxItems: number;
}

export interface Classification extends ScenarioFigures {
  /** One line per envelope that did not complete, for the failure message. */
  problems: string[];
}

/**
 * Classifies each envelope as completed, dead-lettered or lost, counting every send where it landed:
 * the sink's mailbox for mail (by the delivery's Message-ID), the InboxItem rows for IM.
 * - duplicated: a delivery sent again after it was recorded as sent (a second `sent` attempt, a mail
 *   arriving after the first `sent` row was written, or a second inbox item);
 * - repeated in flight: a mail that arrived twice before its `sent` row was written (a send in flight
 *   at a kill), which the design allows.
 */
export async function classify(db: Pool, ids: readonly string[], mailbox: Mailbox): Promise<Classification> {
  const messages = await db.query<{ id: string; status: string }>(
    `SELECT id, status FROM "Message" WHERE id = ANY($1)`,
    [ids],
  );
  const deliveries = await db.query<DeliveryFacts>(
    `SELECT d.id, d."messageId", d.channel, d.status,
            (SELECT count(*)::int FROM "DeliveryAttempt" a WHERE a."deliveryId" = d.id AND a.outcome = 'sent') AS "sentAttempts",
            (SELECT min(a."createdAt") FROM "DeliveryAttempt" a WHERE a."deliveryId" = d.id AND a.outcome = 'sent') AS "firstSentAt",
            (SELECT count(*)::int FROM "InboxItem" i WHERE i."deliveryId" = d.id) AS "inboxItems"
       FROM "Delivery" d WHERE d."messageId" = ANY($1)`,
    [ids],
  );
  const dead = await db.query<{ messageId: string }>(
    `SELECT DISTINCT "messageId" FROM "DeadLetter" WHERE "messageId" = ANY($1)`,
    [ids],
  );
  const statusOf = new Map(messages.rows.map((m) => [m.id, m.status]));
  const deadIds = new Set(dead.rows.map((d) => d.messageId));
  const byMessage = new Map<string, DeliveryFacts[]>();
  for (const d of deliveries.rows) byMessage.set(d.messageId, [...(byMessage.get(d.messageId) ?? []), d]);

  let completed = 0;
  let lost = 0;
  let deadLettered = 0;
  let duplicated = 0;
  let repeatedInFlight = 0;
  const problems: string[] = [];
  for (const id of ids) {
    const ds = byMessage.get(id) ?? [];
    let landedAll = ds.length > 0;
    for (const d of ds) {
      if (d.channel === 'mail') {
        const arrivals = mailbox.arrivals(`<${d.id}@herald>`);
        if (arrivals.length === 0) landedAll = false;
        const recordedAt = d.firstSentAt?.getTime() ?? Infinity;
        const after = arrivals.filter((t) => t > recordedAt).length;
        duplicated += after + Math.max(0, d.sentAttempts - 1);
        repeatedInFlight += Math.max(0, arrivals.length - after - 1);
      } else if (d.channel === 'im') {
        if (d.inboxItems === 0) landedAll = false;
        duplicated += Math.max(0, d.inboxItems - 1) + Math.max(0, d.sentAttempts - 1);
      }
      if (!['sent', 'delivered', 'read'].includes(d.status)) landedAll = false;
    }
    const status = statusOf.get(id);
    if (status === 'completed' && landedAll) completed += 1;
    else if (deadIds.has(id)) deadLettered += 1;
    else {
      lost += 1;
      if (problems.length < 20)
        problems.push(
          `${id}: message ${status ?? 'missing'}, deliveries ${ds.map((d) => `${d.channel}=${d.status}`).join(',')}`,
        );
    }
  }
  return { total: ids.length, completed, lost, duplicated, deadLettered, repeatedInFlight, problems };
}
