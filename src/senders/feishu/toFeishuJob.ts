import type { JobBase } from '../sender';
import type { FeishuJob, FeishuRobotAccount } from './feishuJob';
import type { FeishuPart } from './feishuPart';

/** A group post: one job per envelope, @-mentioning every recipient with a Feishu user id. */
export function toFeishuJob(
  base: JobBase,
  rendered: Omit<FeishuPart, 'account'>,
  account: FeishuRobotAccount,
  recipients: ReadonlyArray<{ feishuUserId?: string }>,
): FeishuJob {
  return {
    ...base,
    channel: 'feishu',
    account,
    msgType: rendered.msgType,
    ...(rendered.title !== undefined ? { title: rendered.title } : {}),
    text: rendered.text,
    ...(rendered.url ? { url: rendered.url } : {}),
    ...(rendered.btnTitle !== undefined ? { btnTitle: rendered.btnTitle } : {}),
    atUserIds: unique(recipients.map((r) => r.feishuUserId)),
    atAll: rendered.atAll ?? false,
  };
}

function unique(values: ReadonlyArray<string | undefined>): string[] {
  return [...new Set(values.filter((v): v is string => Boolean(v)))];
}
