-- AlterEnum
ALTER TYPE "DeliveryStatus" ADD VALUE 'deferred';
