-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateEnum
CREATE TYPE "TemplateStatus" AS ENUM ('active', 'archived');

-- CreateEnum
CREATE TYPE "ChannelAccountType" AS ENUM ('smtp', 'dingtalk_robot');

-- CreateEnum
CREATE TYPE "MessageStatus" AS ENUM ('accepted', 'rejected', 'dispatched', 'completed', 'partially_failed');

-- CreateEnum
CREATE TYPE "Channel" AS ENUM ('mail', 'dingtalk', 'im');

-- CreateEnum
CREATE TYPE "DeliveryStatus" AS ENUM ('queued', 'sending', 'sent', 'delivered', 'read', 'retrying', 'failed', 'skipped');

-- CreateEnum
CREATE TYPE "AttemptOutcome" AS ENUM ('sent', 'retryable', 'permanent', 'waiting');

-- CreateTable
CREATE TABLE "Template" (
    "id" UUID NOT NULL,
    "code" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT,
    "status" "TemplateStatus" NOT NULL DEFAULT 'active',
    "currentVersion" INTEGER NOT NULL,
    "channels" TEXT[],
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "Template_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "TemplateVersion" (
    "id" UUID NOT NULL,
    "templateId" UUID NOT NULL,
    "version" INTEGER NOT NULL,
    "name" TEXT NOT NULL,
    "variables" JSONB NOT NULL,
    "channels" JSONB NOT NULL,
    "locales" JSONB NOT NULL DEFAULT '{}',
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "TemplateVersion_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ChannelAccount" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "type" "ChannelAccountType" NOT NULL,
    "config" JSONB NOT NULL,
    "secrets" TEXT NOT NULL,
    "isDefault" BOOLEAN NOT NULL DEFAULT false,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "ChannelAccount_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Message" (
    "id" TEXT NOT NULL,
    "templateCode" TEXT,
    "templateVersion" INTEGER,
    "status" "MessageStatus" NOT NULL,
    "reason" TEXT,
    "source" TEXT,
    "traceId" TEXT,
    "recipientCount" INTEGER NOT NULL DEFAULT 0,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Message_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Delivery" (
    "id" UUID NOT NULL,
    "messageId" TEXT NOT NULL,
    "channel" "Channel" NOT NULL,
    "recipientIndex" INTEGER NOT NULL,
    "userId" TEXT,
    "email" TEXT,
    "templateCode" TEXT NOT NULL,
    "status" "DeliveryStatus" NOT NULL,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "reason" TEXT,
    "nextAttemptAt" TIMESTAMPTZ(3),
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Delivery_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "DeliveryAttempt" (
    "id" BIGSERIAL NOT NULL,
    "deliveryId" UUID NOT NULL,
    "attempt" INTEGER NOT NULL,
    "outcome" "AttemptOutcome" NOT NULL,
    "providerId" TEXT,
    "errorCode" TEXT,
    "errorText" TEXT,
    "durationMs" INTEGER NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "DeliveryAttempt_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "InboxItem" (
    "id" UUID NOT NULL,
    "userId" TEXT NOT NULL,
    "seq" BIGINT NOT NULL,
    "deliveryId" UUID,
    "messageId" TEXT,
    "title" TEXT NOT NULL,
    "body" TEXT NOT NULL,
    "url" TEXT,
    "category" TEXT,
    "data" JSONB,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "readAt" TIMESTAMPTZ(3),

    CONSTRAINT "InboxItem_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "InboxCounter" (
    "userId" TEXT NOT NULL,
    "lastSeq" BIGINT NOT NULL,

    CONSTRAINT "InboxCounter_pkey" PRIMARY KEY ("userId")
);

-- CreateTable
CREATE TABLE "DeadLetter" (
    "id" UUID NOT NULL,
    "messageId" TEXT,
    "routingKey" TEXT,
    "code" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "payload" BYTEA NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "replayedAt" TIMESTAMPTZ(3),

    CONSTRAINT "DeadLetter_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "RobotSend" (
    "id" BIGSERIAL NOT NULL,
    "account" TEXT NOT NULL,
    "sentAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "RobotSend_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "Template_code_key" ON "Template"("code");

-- CreateIndex
CREATE INDEX "Template_status_createdAt_id_idx" ON "Template"("status", "createdAt", "id");

-- CreateIndex
CREATE UNIQUE INDEX "TemplateVersion_templateId_version_key" ON "TemplateVersion"("templateId", "version");

-- CreateIndex
CREATE UNIQUE INDEX "ChannelAccount_name_key" ON "ChannelAccount"("name");

-- CreateIndex
CREATE INDEX "Message_createdAt_idx" ON "Message"("createdAt");

-- CreateIndex
CREATE INDEX "Message_status_createdAt_idx" ON "Message"("status", "createdAt");

-- CreateIndex
CREATE INDEX "Delivery_createdAt_id_idx" ON "Delivery"("createdAt", "id");

-- CreateIndex
CREATE INDEX "Delivery_status_createdAt_idx" ON "Delivery"("status", "createdAt");

-- CreateIndex
CREATE INDEX "Delivery_channel_createdAt_idx" ON "Delivery"("channel", "createdAt");

-- CreateIndex
CREATE INDEX "Delivery_templateCode_createdAt_idx" ON "Delivery"("templateCode", "createdAt");

-- CreateIndex
CREATE INDEX "Delivery_userId_createdAt_idx" ON "Delivery"("userId", "createdAt");

-- CreateIndex
CREATE INDEX "Delivery_email_createdAt_idx" ON "Delivery"("email", "createdAt");

-- CreateIndex
CREATE UNIQUE INDEX "Delivery_messageId_channel_recipientIndex_key" ON "Delivery"("messageId", "channel", "recipientIndex");

-- CreateIndex
CREATE INDEX "DeliveryAttempt_deliveryId_createdAt_idx" ON "DeliveryAttempt"("deliveryId", "createdAt");

-- CreateIndex
CREATE UNIQUE INDEX "InboxItem_deliveryId_key" ON "InboxItem"("deliveryId");

-- CreateIndex
CREATE INDEX "InboxItem_userId_readAt_seq_idx" ON "InboxItem"("userId", "readAt", "seq");

-- CreateIndex
CREATE UNIQUE INDEX "InboxItem_userId_seq_key" ON "InboxItem"("userId", "seq");

-- CreateIndex
CREATE INDEX "DeadLetter_createdAt_id_idx" ON "DeadLetter"("createdAt", "id");

-- CreateIndex
CREATE INDEX "DeadLetter_messageId_idx" ON "DeadLetter"("messageId");

-- CreateIndex
CREATE INDEX "RobotSend_account_sentAt_idx" ON "RobotSend"("account", "sentAt");

-- AddForeignKey
ALTER TABLE "TemplateVersion" ADD CONSTRAINT "TemplateVersion_templateId_fkey" FOREIGN KEY ("templateId") REFERENCES "Template"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Delivery" ADD CONSTRAINT "Delivery_messageId_fkey" FOREIGN KEY ("messageId") REFERENCES "Message"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "DeliveryAttempt" ADD CONSTRAINT "DeliveryAttempt_deliveryId_fkey" FOREIGN KEY ("deliveryId") REFERENCES "Delivery"("id") ON DELETE CASCADE ON UPDATE CASCADE;
