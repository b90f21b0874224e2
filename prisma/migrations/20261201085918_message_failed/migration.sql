-- AlterEnum
ALTER TYPE "MessageStatus" ADD VALUE 'failed';
