-- CreateTable
CREATE TABLE "StatusEvent" (
    "id" UUID NOT NULL,
    "seq" BIGINT,
    "type" TEXT NOT NULL,
    "messageId" TEXT,
    "deliveryId" UUID,
    "templateCode" TEXT,
    "payload" JSONB NOT NULL,
    "occurredAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "key" TEXT,
    "appendOrder" BIGSERIAL NOT NULL,

    CONSTRAINT "StatusEvent_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "StatusEvent_seq_key" ON "StatusEvent"("seq");

-- CreateIndex
CREATE UNIQUE INDEX "StatusEvent_key_key" ON "StatusEvent"("key");

-- CreateIndex
CREATE INDEX "StatusEvent_messageId_occurredAt_idx" ON "StatusEvent"("messageId", "occurredAt");

-- CreateIndex
CREATE INDEX "StatusEvent_deliveryId_idx" ON "StatusEvent"("deliveryId");
