-- AlterEnum
ALTER TYPE "Channel" ADD VALUE 'feishu';

-- AlterEnum
ALTER TYPE "ChannelAccountType" ADD VALUE 'feishu_robot';
