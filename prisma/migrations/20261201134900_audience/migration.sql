-- DropIndex
DROP INDEX "Delivery_messageId_channel_recipientIndex_key";

-- AlterTable
-- Rows from before keep a key of their own: the group post's, the user's where it is unique in its
-- message and channel, else the envelope position.
ALTER TABLE "Delivery" ADD COLUMN     "recipientKey" TEXT,
ALTER COLUMN "recipientIndex" DROP NOT NULL;
UPDATE "Delivery" d SET "recipientKey" = CASE
    WHEN d."recipientIndex" = -1 THEN 'group'
    WHEN d."userId" IS NOT NULL AND (SELECT count(*) FROM "Delivery" o WHERE o."messageId" = d."messageId"
      AND o.channel = d.channel AND o."userId" = d."userId") = 1 THEN 'user:' || d."userId"
    ELSE 'index:' || d."recipientIndex" END;
ALTER TABLE "Delivery" ALTER COLUMN "recipientKey" SET NOT NULL;

-- AlterTable
ALTER TABLE "Message" ADD COLUMN     "acceptedAt" TIMESTAMPTZ(3);

-- CreateTable
CREATE TABLE "Subscriber" (
    "userId" TEXT NOT NULL,
    "email" TEXT,
    "fields" JSONB NOT NULL DEFAULT '{}',
    "timezone" TEXT,
    "data" JSONB,
    "preferences" JSONB NOT NULL DEFAULT '{}',
    "quietHours" JSONB,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Subscriber_pkey" PRIMARY KEY ("userId")
);

-- CreateTable
CREATE TABLE "Topic" (
    "key" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Topic_pkey" PRIMARY KEY ("key")
);

-- CreateTable
CREATE TABLE "TopicMember" (
    "id" BIGSERIAL NOT NULL,
    "topicKey" TEXT NOT NULL,
    "userId" TEXT NOT NULL,
    "addedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "removedAt" TIMESTAMPTZ(3),

    CONSTRAINT "TopicMember_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "Subscriber_email_idx" ON "Subscriber"("email");

-- CreateIndex
CREATE INDEX "TopicMember_topicKey_userId_idx" ON "TopicMember"("topicKey", "userId");

-- CreateIndex
CREATE INDEX "TopicMember_userId_idx" ON "TopicMember"("userId");

-- CreateIndex
CREATE UNIQUE INDEX "Delivery_messageId_channel_recipientKey_key" ON "Delivery"("messageId", "channel", "recipientKey");

-- At most one open membership per topic and user, whatever concurrent adds do.
CREATE UNIQUE INDEX "TopicMember_open_key" ON "TopicMember"("topicKey", "userId") WHERE "removedAt" IS NULL;
