import type { ChannelName } from '../contract/envelope';

/**
 * What one send attempt came to; the pipeline decides retries from `kind`. `deferred` means the send was
 * not tried because a budget (a DingTalk robot's 20 a minute) is spent: it waits, logged as `waiting`,
 * and does not count as a failed attempt.
 */
export type SendOutcome =
  | { kind: 'sent'; providerId?: string }
  | { kind: 'deferred'; retryAfterMs: number; reason: string }
  | { kind: 'retryable'; code: string; message: string; retryAfterMs?: number }
  | { kind: 'permanent'; code: string; message: string };

export interface SmtpAccountConfig {
  name: string;
  host: string;
  port: number;
  secure: boolean;
  user?: string;
  /** AUTH without TLS when the server offers no STARTTLS; otherwise TLS is required before AUTH. */
  allowInsecureAuth?: boolean;
  password?: string;
  from: string;
  replyTo?: string;
}

export interface RobotAccountConfig {
  name: string;
  /** Full webhook URL including access_token (a secret). */
  webhook: string;
  /** Signing secret (`SEC…`), if the robot has signing enabled. */
  secret?: string;
}

interface JobBase {
  deliveryId: string;
  messageId: string;
  /** 1 for the first attempt. */
  attempt: number;
}

export interface MailJob extends JobBase {
  channel: 'mail';
  /** undefined: no SMTP account exists, write to the outbox. */
  account?: SmtpAccountConfig;
  to: { email: string; name?: string };
  subject: string;
  html: string;
  text?: string;
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

export interface ImJob extends JobBase {
  channel: 'im';
  userId: string;
  title: string;
  body: string;
  url?: string;
  category?: string;
  data?: unknown;
}

export type SendJob = MailJob | DingTalkJob | ImJob;

/** One file per channel implements this; senders hold no per-call mutable state. */
export interface Sender<J extends SendJob = SendJob> {
  readonly channel: ChannelName;
  send(job: J): Promise<SendOutcome>;
  /** Optional batch path (IM stores all items of a message in one transaction); outcomes in job order. */
  sendMany?(jobs: J[]): Promise<SendOutcome[]>;
  close?(): Promise<void>;
}
