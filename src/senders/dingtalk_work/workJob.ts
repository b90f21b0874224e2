import type { JobBase } from '../sender';
import type { WorkPart } from './workPart';

/** A corporate DingTalk app as the sender needs it. */
export interface WorkAppAccount {
  name: string;
  appKey: string;
  /** A secret. */
  appSecret: string;
  agentId: number;
  /** DingTalk's server API origin when not https://oapi.dingtalk.com (a private gateway). */
  apiBase?: string;
}

/** One work notification to one person (one delivery per recipient). */
export interface DingTalkWorkJob extends JobBase {
  channel: 'dingtalk_work';
  account: WorkAppAccount;
  /** The recipient's `dingtalkUserId`. */
  userId: string;
  msgtype: WorkPart['msgtype'];
  title?: string;
  text: string;
  url?: string;
  picUrl?: string;
  btnTitle?: string;
}
