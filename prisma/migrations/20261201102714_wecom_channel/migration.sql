-- AlterEnum
ALTER TYPE "Channel" ADD VALUE 'wecom';

-- AlterEnum
ALTER TYPE "ChannelAccountType" ADD VALUE 'wecom_robot';
