-- AlterTable
ALTER TABLE "TemplateVersion" ADD COLUMN     "category" TEXT,
ADD COLUMN     "critical" BOOLEAN NOT NULL DEFAULT false;
