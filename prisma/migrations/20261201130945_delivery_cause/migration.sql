-- AlterTable
ALTER TABLE "Delivery" ADD COLUMN     "cause" TEXT;
