-- CreateTable
CREATE TABLE "Suppression" (
    "address" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "detail" TEXT,
    "messageId" TEXT,
    "deliveryId" UUID,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Suppression_pkey" PRIMARY KEY ("address")
);

-- CreateIndex
CREATE INDEX "Suppression_messageId_idx" ON "Suppression"("messageId");
