-- CreateTable
CREATE TABLE "StatusWebhook" (
    "id" UUID NOT NULL,
    "url" TEXT NOT NULL,
    "description" TEXT,
    "events" TEXT[],
    "templates" TEXT[],
    "secret" TEXT NOT NULL,
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "disabledReason" TEXT,
    "disabledAt" TIMESTAMPTZ(3),
    "consecutiveFailures" INTEGER NOT NULL DEFAULT 0,
    "cursor" BIGINT NOT NULL DEFAULT 0,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "StatusWebhook_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "StatusWebhookAttempt" (
    "id" BIGSERIAL NOT NULL,
    "webhookId" UUID NOT NULL,
    "eventId" UUID NOT NULL,
    "eventType" TEXT NOT NULL,
    "messageId" TEXT,
    "attempt" INTEGER NOT NULL,
    "outcome" TEXT NOT NULL,
    "statusCode" INTEGER,
    "error" TEXT,
    "durationMs" INTEGER NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "StatusWebhookAttempt_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "StatusWebhookAttempt_webhookId_id_idx" ON "StatusWebhookAttempt"("webhookId", "id");

-- CreateIndex
CREATE INDEX "StatusWebhookAttempt_messageId_idx" ON "StatusWebhookAttempt"("messageId");

-- AddForeignKey
ALTER TABLE "StatusWebhookAttempt" ADD CONSTRAINT "StatusWebhookAttempt_webhookId_fkey" FOREIGN KEY ("webhookId") REFERENCES "StatusWebhook"("id") ON DELETE CASCADE ON UPDATE CASCADE;
