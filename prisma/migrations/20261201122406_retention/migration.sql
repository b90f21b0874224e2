-- CreateTable
CREATE TABLE "PurgedMessage" (
    "id" TEXT NOT NULL,
    "status" "MessageStatus" NOT NULL,
    "finishedAt" TIMESTAMPTZ(3) NOT NULL,
    "purgedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "PurgedMessage_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "PurgedMessage_purgedAt_idx" ON "PurgedMessage"("purgedAt");

-- CreateIndex
CREATE INDEX "InboxItem_readAt_idx" ON "InboxItem"("readAt");
