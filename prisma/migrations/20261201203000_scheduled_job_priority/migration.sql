-- AlterTable
ALTER TABLE "ScheduledJob" ADD COLUMN     "priority" SMALLINT NOT NULL DEFAULT 0;

-- CreateIndex
CREATE INDEX "ScheduledJob_priority_runAt_idx" ON "ScheduledJob"("priority", "runAt");
