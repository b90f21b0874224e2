import type { JobBase } from '../sender';
import type { DingTalkWorkJob, WorkAppAccount } from './workJob';
import type { WorkPart } from './workPart';

/** One job per recipient, addressed by the recipient's `dingtalkUserId` (planning skips those without). */
export function toWorkJob(
  base: JobBase,
  rendered: Omit<WorkPart, 'account'>,
  account: WorkAppAccount,
  recipient: { dingtalkUserId: string },
): DingTalkWorkJob {
  return {
    ...base,
    channel: 'dingtalk_work',
    account,
    userId: recipient.dingtalkUserId,
    msgtype: rendered.msgtype,
    ...(rendered.title !== undefined ? { title: rendered.title } : {}),
    text: rendered.text,
    ...(rendered.url ? { url: rendered.url } : {}),
    ...(rendered.picUrl ? { picUrl: rendered.picUrl } : {}),
    ...(rendered.btnTitle !== undefined ? { btnTitle: rendered.btnTitle } : {}),
  };
}
