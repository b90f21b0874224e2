import type { ChannelName, Envelope, Recipient } from '../contract/envelope';
import type { RenderedParts } from '../contract/template';

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

export type DispatchResult =
  | { kind: 'done'; messageId: string; status: string; retryInMs?: number }
  | { kind: 'rejected'; messageId?: string; code: string; reason: string };

export type { Envelope, RenderedParts };
