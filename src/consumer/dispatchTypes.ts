import type { ChannelName, Envelope, Recipient } from '../contract/envelope';
import type { DingTalkMsgType, RobotAccountConfig, Sender, SmtpAccountConfig } from '../senders/types';

/** The parts of one channel after rendering for one recipient (DingTalk: once per envelope). */
export interface RenderedParts {
  mail?: { account?: string; subject: string; html: string; text?: string };
  dingtalk?: {
    account?: string;
    msgtype: DingTalkMsgType;
    title?: string;
    text: string;
    url?: string;
    picUrl?: string;
    btnTitle?: string;
  };
  im?: { title: string; body: string; url?: string; category?: string; data?: Record<string, unknown> };
}

/** A template version as dispatch uses it: bound to the template module by src/consumer/templateBinding.ts. */
export interface ResolvedTemplate {
  code: string;
  version: number;
  channels: ChannelName[];
  /** Problems with `data` against the declared variables, each naming the variable; empty when fine. */
  checkData(data: Record<string, unknown>): string[];
  render(input: {
    data: Record<string, unknown>;
    recipient?: Recipient;
    locale?: string;
  }): Promise<RenderedParts>;
}

export interface TemplateResolver {
  /** The version to use: `version` when given (a retry keeps the version it started with), else the active one. */
  resolve(code: string, version?: number): Promise<ResolvedTemplate | undefined>;
}

export interface AccountLookup {
  getSmtpAccount(name?: string): Promise<SmtpAccountConfig | undefined>;
  getRobotAccount(name: string): Promise<RobotAccountConfig>;
}

/** Channel → sender. */
export type SenderRegistry = ReadonlyMap<ChannelName, Sender>;

export type DispatchResult =
  | { kind: 'done'; messageId: string; status: string; retryInMs?: number }
  | { kind: 'rejected'; messageId?: string; code: string; reason: string };

export type { Envelope };
