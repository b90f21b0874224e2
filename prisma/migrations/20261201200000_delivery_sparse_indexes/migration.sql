-- The address and digest indexes of Delivery hold only the rows that have one. Every IM delivery has
-- neither, yet each version of its row (insert, claim, sent, delivered: none of them HOT, since status
-- is indexed) added a NULL entry to both. Equality lookups (email = $1, "digestMessageId" = $1) imply
-- NOT NULL, so the planner still uses them.
DROP INDEX IF EXISTS "Delivery_email_createdAt_idx";
CREATE INDEX "Delivery_email_createdAt_idx" ON "Delivery"("email", "createdAt") WHERE "email" IS NOT NULL;

DROP INDEX IF EXISTS "Delivery_digestMessageId_idx";
CREATE INDEX "Delivery_digestMessageId_idx" ON "Delivery"("digestMessageId") WHERE "digestMessageId" IS NOT NULL;
