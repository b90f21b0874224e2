-- An erased person's suppression entry keeps only a keyed hash of the address (src/audience/suppressionList.ts):
-- the address becomes nullable, so the entry needs a key of its own. Existing entries keep their address.
-- AlterTable
ALTER TABLE "Suppression" DROP CONSTRAINT "Suppression_pkey",
ADD COLUMN     "addressHash" TEXT,
ADD COLUMN     "id" BIGSERIAL NOT NULL,
ALTER COLUMN "address" DROP NOT NULL,
ADD CONSTRAINT "Suppression_pkey" PRIMARY KEY ("id");

-- CreateIndex
CREATE UNIQUE INDEX "Suppression_address_key" ON "Suppression"("address");

-- CreateIndex
CREATE UNIQUE INDEX "Suppression_addressHash_key" ON "Suppression"("addressHash");
