-- AlterEnum
ALTER TYPE "DeliveryStatus" ADD VALUE 'digested';

-- AlterEnum
ALTER TYPE "MessageStatus" ADD VALUE 'digested';

-- AlterTable
ALTER TABLE "Delivery" ADD COLUMN     "digestMessageId" TEXT;

-- AlterTable
ALTER TABLE "TemplateVersion" ADD COLUMN     "policy" JSONB NOT NULL DEFAULT '{}';

-- CreateTable
CREATE TABLE "DigestBucket" (
    "id" TEXT NOT NULL,
    "openKey" TEXT,
    "templateCode" TEXT NOT NULL,
    "scope" TEXT NOT NULL,
    "recipientKey" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "windowStart" TIMESTAMPTZ(3) NOT NULL,
    "closesAt" TIMESTAMPTZ(3) NOT NULL,
    "events" INTEGER NOT NULL DEFAULT 0,
    "recipients" JSONB NOT NULL,
    "channels" TEXT[],
    "closedAt" TIMESTAMPTZ(3),
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "DigestBucket_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "DigestBucket_openKey_key" ON "DigestBucket"("openKey");

-- CreateIndex
CREATE INDEX "Delivery_digestMessageId_idx" ON "Delivery"("digestMessageId");
