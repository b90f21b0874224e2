import type { SqlClient } from '../db/sqlClient';

export interface ErasedDeliveries {
  messages: number;
  deliveries: number;
  attempts: number;
}

/**
 * Replaces a person's user id, addresses and name in the delivery log with `marker` (in the caller's
 * transaction): the envelopes kept for retries, the deliveries, their status events, open digests, and any
 * attempt text quoting them. Those rows stay, so the counts do (the throttle and deduplication rows keyed
 * by the person are removed); a later redelivery of such an envelope finds the marker, not the person.
 */
export async function eraseRecipient(
  tx: SqlClient,
  who: { userId: string; emails: readonly string[]; names: readonly string[] },
  marker: string,
): Promise<ErasedDeliveries> {
  const emails = who.emails.map((e) => e.toLowerCase());
  const { rows: ids } = await tx.query<{ id: string; messageId: string }>(
    `SELECT id, "messageId" FROM "Delivery" WHERE "userId" = $1 OR lower(email) = ANY($2::text[]) FOR UPDATE`,
    [who.userId, emails],
  );
  const deliveryIds = ids.map((r) => r.id);
  const messageIds = [...new Set(ids.map((r) => r.messageId))];
  const { rows: changed } = await tx.query<{ id: string }>(
    `UPDATE "Message" m SET envelope = jsonb_set(m.envelope, '{to}', (
        SELECT jsonb_agg(CASE WHEN x.e->>'userId' = $2 OR lower(x.e->>'email') = ANY($3::text[])
                              THEN jsonb_build_object('userId', $4::text) ELSE x.e END ORDER BY x.ord)
          FROM jsonb_array_elements(m.envelope->'to') WITH ORDINALITY AS x(e, ord))), "updatedAt" = now()
      WHERE m.id = ANY($1::text[]) AND jsonb_typeof(m.envelope->'to') = 'array'
     RETURNING m.id`,
    [messageIds, who.userId, emails, marker],
  );
  await tx.query(
    `UPDATE "Delivery" SET "userId" = CASE WHEN "userId" IS NULL THEN NULL ELSE $2 END,
       email = CASE WHEN email IS NULL THEN NULL ELSE $2 END,
       "recipientKey" = 'erased:' || id, "updatedAt" = now()
     WHERE id = ANY($1::uuid[])`,
    [deliveryIds, marker],
  );
  // Digests still collecting keep the recipients they will go to.
  await tx.query(
    `UPDATE "DigestBucket" b SET recipients = (
        SELECT jsonb_agg(CASE WHEN x.e->>'userId' = $1 OR lower(x.e->>'email') = ANY($2::text[])
                              THEN jsonb_build_object('userId', $3::text) ELSE x.e END ORDER BY x.ord)
          FROM jsonb_array_elements(b.recipients) WITH ORDINALITY AS x(e, ord))
      WHERE jsonb_typeof(b.recipients) = 'array' AND EXISTS (
        SELECT 1 FROM jsonb_array_elements(b.recipients) e
         WHERE e->>'userId' = $1 OR lower(e->>'email') = ANY($2::text[]))`,
    [who.userId, emails, marker],
  );
  // Throttle and deduplication rows are keyed by the person (recipientKey): they go, as the digests' do.
  for (const table of ['ThrottleWindow', 'DedupeKey'])
    await tx.query(
      `DELETE FROM "${table}" WHERE "recipientKey" = 'user:' || $1 OR lower("recipientKey") = ANY($2::text[])`,
      [who.userId, emails.map((e) => `address:${e}`)],
    );
  // The status event log quotes the user id of each delivery event.
  await tx.query(
    `UPDATE "StatusEvent" SET payload = jsonb_set(payload, '{userId}', to_jsonb($2::text))
      WHERE "deliveryId" = ANY($1::uuid[]) AND payload->>'userId' IS NOT NULL`,
    [deliveryIds, marker],
  );
  let attempts = 0;
  for (const term of [...new Set([who.userId, ...who.emails, ...who.names])].filter((t) => t.length >= 2)) {
    const { rows } = await tx.query<{ id: string }>(
      `UPDATE "DeliveryAttempt" SET "errorText" = replace("errorText", $2, $3), "providerId" = replace("providerId", $2, $3)
        WHERE "deliveryId" = ANY($1::uuid[]) AND (strpos("errorText", $2) > 0 OR strpos("providerId", $2) > 0)
       RETURNING id`,
      [deliveryIds, term, marker],
    );
    attempts += rows.length;
  }
  return { messages: changed.length, deliveries: deliveryIds.length, attempts };
}
