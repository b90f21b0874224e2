import type { JobBase } from '../sender';

export interface RobotAccountConfig {
  name: string;
  /** Full webhook URL including access_token (a secret). */
  webhook: string;
  /** Signing secret (`SEC…`), if the robot has signing enabled. */
  secret?: string;
}

export type DingTalkMsgType = 'text' | 'markdown' | 'actionCard' | 'link';

export interface DingTalkJob extends JobBase {
  channel: 'dingtalk';
  account: RobotAccountConfig;
  msgtype: DingTalkMsgType;
  title?: string;
  /** text / markdown body. */
  text: string;
  url?: string;
  picUrl?: string;
  btnTitle?: string;
  atMobiles: string[];
  atUserIds: string[];
  isAtAll: boolean;
}
