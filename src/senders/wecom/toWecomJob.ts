import type { JobBase } from '../sender';
import type { WecomJob, WecomRobotAccount } from './wecomJob';
import type { WecomPart } from './wecomPart';

/**
 * A group post: one job per envelope. A recipient is @-mentioned by WeCom user id, or by mobile when it
 * has none (never both, which would @ them twice).
 */
export function toWecomJob(
  base: JobBase,
  rendered: Omit<WecomPart, 'account'>,
  account: WecomRobotAccount,
  recipients: ReadonlyArray<{ wecomUserId?: string; mobile?: string }>,
): WecomJob {
  return {
    ...base,
    channel: 'wecom',
    account,
    msgtype: rendered.msgtype,
    ...(rendered.title !== undefined ? { title: rendered.title } : {}),
    text: rendered.text,
    ...(rendered.url ? { url: rendered.url } : {}),
    ...(rendered.picUrl ? { picUrl: rendered.picUrl } : {}),
    atUserIds: unique(recipients.map((r) => r.wecomUserId)),
    atMobiles: unique(recipients.map((r) => (r.wecomUserId ? undefined : r.mobile))),
    atAll: false,
  };
}

function unique(values: ReadonlyArray<string | undefined>): string[] {
  return [...new Set(values.filter((v): v is string => Boolean(v)))];
}
