-- CreateIndex
CREATE INDEX "Message_status_sendAt_id_idx" ON "Message"("status", "sendAt", "id");
