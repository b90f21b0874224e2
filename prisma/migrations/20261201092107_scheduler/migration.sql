-- AlterEnum
ALTER TYPE "AttemptOutcome" ADD VALUE 'cancelled';

-- AlterEnum
ALTER TYPE "DeliveryStatus" ADD VALUE 'cancelled';

-- AlterEnum
-- This migration adds more than one value to an enum.
-- With PostgreSQL versions 11 and earlier, this is not possible
-- in a single migration. This can be worked around by creating
-- multiple migrations, each migration adding only one value to
-- the enum.


ALTER TYPE "MessageStatus" ADD VALUE 'scheduled';
ALTER TYPE "MessageStatus" ADD VALUE 'cancelled';

-- AlterTable
ALTER TABLE "Message" ADD COLUMN     "sendAt" TIMESTAMPTZ(3);

-- CreateTable
CREATE TABLE "ScheduledJob" (
    "id" BIGSERIAL NOT NULL,
    "kind" TEXT NOT NULL,
    "key" TEXT,
    "payload" JSONB NOT NULL,
    "dueAt" TIMESTAMPTZ(3) NOT NULL,
    "runAt" TIMESTAMPTZ(3) NOT NULL,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "claimToken" UUID,
    "claimedBy" TEXT,
    "lastError" TEXT,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ScheduledJob_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "ScheduledJob_runAt_idx" ON "ScheduledJob"("runAt");

-- CreateIndex
CREATE UNIQUE INDEX "ScheduledJob_kind_key_key" ON "ScheduledJob"("kind", "key");
