import type { JobBase } from '../sender';
import type { WecomPart } from './wecomPart';

/** A WeCom group robot as the sender needs it: the webhook with its `key` (a secret). */
export interface WecomRobotAccount {
  name: string;
  /** `https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…` */
  webhook: string;
}

/** One post into the robot's group: the rendered part and whom to @. */
export interface WecomJob extends JobBase {
  channel: 'wecom';
  account: WecomRobotAccount;
  msgtype: WecomPart['msgtype'];
  title?: string;
  text: string;
  url?: string;
  picUrl?: string;
  /** Recipients' `wecomUserId`. */
  atUserIds: string[];
  /** Recipients' mobiles (text messages only: markdown can @ by user id alone). */
  atMobiles: string[];
  atAll: boolean;
}
