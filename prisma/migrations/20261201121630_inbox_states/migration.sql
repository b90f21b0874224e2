-- AlterTable
ALTER TABLE "Delivery" ADD COLUMN     "action" TEXT,
ADD COLUMN     "actionedAt" TIMESTAMPTZ(3),
ADD COLUMN     "readAt" TIMESTAMPTZ(3),
ADD COLUMN     "seenAt" TIMESTAMPTZ(3);

-- AlterTable
ALTER TABLE "InboxCounter" ADD COLUMN     "unread" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "unseen" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "version" BIGINT NOT NULL DEFAULT 0;

-- AlterTable
ALTER TABLE "InboxItem" ADD COLUMN     "action" TEXT,
ADD COLUMN     "actionedAt" TIMESTAMPTZ(3),
ADD COLUMN     "actions" JSONB,
ADD COLUMN     "archivedAt" TIMESTAMPTZ(3),
ADD COLUMN     "deletedAt" TIMESTAMPTZ(3),
ADD COLUMN     "expiredAt" TIMESTAMPTZ(3),
ADD COLUMN     "expiresAt" TIMESTAMPTZ(3),
ADD COLUMN     "seenAt" TIMESTAMPTZ(3),
ADD COLUMN     "severity" TEXT NOT NULL DEFAULT 'normal',
ADD COLUMN     "snoozedUntil" TIMESTAMPTZ(3),
ADD COLUMN     "tags" TEXT[] DEFAULT ARRAY[]::TEXT[];

-- CreateTable
CREATE TABLE "InboxTab" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "category" TEXT,
    "tags" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "severities" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "InboxTab_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "InboxTabCount" (
    "userId" TEXT NOT NULL,
    "tabId" UUID NOT NULL,
    "unread" INTEGER NOT NULL,
    "unseen" INTEGER NOT NULL,

    CONSTRAINT "InboxTabCount_pkey" PRIMARY KEY ("userId","tabId")
);

-- CreateIndex
CREATE UNIQUE INDEX "InboxTab_name_key" ON "InboxTab"("name");

-- CreateIndex
CREATE INDEX "InboxTabCount_tabId_idx" ON "InboxTabCount"("tabId");

-- AddForeignKey
ALTER TABLE "InboxTabCount" ADD CONSTRAINT "InboxTabCount_tabId_fkey" FOREIGN KEY ("tabId") REFERENCES "InboxTab"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Items read before seen existed were seen, and the counts start from the items as they are.
UPDATE "InboxItem" SET "seenAt" = "readAt" WHERE "readAt" IS NOT NULL;
UPDATE "InboxCounter" c SET
  unread = (SELECT count(*) FROM "InboxItem" i WHERE i."userId" = c."userId" AND i."readAt" IS NULL),
  unseen = (SELECT count(*) FROM "InboxItem" i WHERE i."userId" = c."userId" AND i."seenAt" IS NULL);
