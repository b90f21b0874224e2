-- CreateIndex
CREATE INDEX "DigestBucket_createdAt_id_idx" ON "DigestBucket"("createdAt", "id");
