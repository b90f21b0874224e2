-- CreateTable
CREATE TABLE "SendHold" (
    "key" TEXT NOT NULL,
    "until" TIMESTAMPTZ(3) NOT NULL,
    "reason" TEXT NOT NULL,

    CONSTRAINT "SendHold_pkey" PRIMARY KEY ("key")
);
