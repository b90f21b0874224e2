import type { JobBase } from '../sender';
import type { FeishuPart } from './feishuPart';

/** A Feishu robot as the sender needs it: the full webhook, with its token, and the signing secret. */
export interface FeishuRobotAccount {
  name: string;
  /** `https://open.feishu.cn/open-apis/bot/v2/hook/<token>`; the token is a secret. */
  webhook: string;
  secret?: string;
}

/** One post into the robot's group: the rendered part and the Feishu user ids to @. */
export interface FeishuJob extends JobBase {
  channel: 'feishu';
  account: FeishuRobotAccount;
  msgType: FeishuPart['msgType'];
  title?: string;
  text: string;
  url?: string;
  btnTitle?: string;
  /** Recipients' `feishuUserId` (open_id `ou_…` or user_id). */
  atUserIds: string[];
  atAll: boolean;
}
