-- CreateTable
CREATE TABLE "ThrottleWindow" (
    "templateCode" TEXT NOT NULL,
    "channel" "Channel" NOT NULL,
    "recipientKey" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "limit" INTEGER NOT NULL,
    "windowMs" INTEGER NOT NULL,
    "sentAt" TIMESTAMPTZ(3)[],
    "messageIds" TEXT[],
    "expiresAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "ThrottleWindow_pkey" PRIMARY KEY ("templateCode","channel","recipientKey","key")
);

-- CreateTable
CREATE TABLE "DedupeKey" (
    "templateCode" TEXT NOT NULL,
    "channel" "Channel" NOT NULL,
    "recipientKey" TEXT NOT NULL,
    "contentHash" TEXT NOT NULL,
    "messageId" TEXT NOT NULL,
    "expiresAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "DedupeKey_pkey" PRIMARY KEY ("templateCode","channel","recipientKey","contentHash")
);

-- CreateIndex
CREATE INDEX "ThrottleWindow_expiresAt_idx" ON "ThrottleWindow"("expiresAt");

-- CreateIndex
CREATE INDEX "DedupeKey_expiresAt_idx" ON "DedupeKey"("expiresAt");
