-- AlterEnum
ALTER TYPE "Channel" ADD VALUE 'dingtalk_work';

-- AlterEnum
ALTER TYPE "ChannelAccountType" ADD VALUE 'dingtalk_work';
