-- AlterTable
ALTER TABLE "Message" ADD COLUMN     "envelope" JSONB;
