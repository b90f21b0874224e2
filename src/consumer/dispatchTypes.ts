import type { ChannelName, Envelope, Recipient } from '../contract/envelope';
import type { RenderedParts } from '../contract/template';

/** A template version as dispatch uses it: bound to the template module by src/consumer/templateBinding.ts. */
export interface ResolvedTemplate {
  code: string;
  version: number;
  /** The version's category (preferences, inbox tabs); null when it has none. */
  category: string | null;
  channels: ChannelName[];
  /** Ignores opt-outs and quiet hours. */
  critical: boolean;
  /** Problems with `data` against the declared variables, each naming the variable; empty when fine. */
  checkData(data: Record<string, unknown>): string[];
  /** Set when the template collects its envelopes into digests. */
  digest?: {
    windowMs: number;
    maxEvents?: number;
    /** The envelope's digest key ('' without one). */
    keyOf(data: Record<string, unknown>): string;
  };
  /**
   * digest.onRateLimit: robot posts (group channels with a rate budget) that find the budget spent are
   * merged into one digest post per channel, sent when a slot frees (src/consumer/rateLimitDigests.ts).
   */
  mergeOnRateLimit?: boolean;
  /** At most `limit` deliveries per recipient, channel and key in any `windowMs`; the rest are `throttled`. */
  throttle?: {
    limit: number;
    windowMs: number;
    /** The envelope's throttle key ('' without one). */
    keyOf(data: Record<string, unknown>): string;
  };
  /** A delivery whose content the recipient got on that channel within `windowMs` is `deduplicated`. */
  dedupe?: { windowMs: number };
  /** Channels sent later, if at all: when the first ones were not read (delivered, sent) in time. */
  escalate?: {
    afterMs: number;
    after: string;
    unless: 'read' | 'delivered' | 'sent';
    channels: ChannelName[];
  };
  /** Channels sent to a recipient only when another failed permanently for them. */
  fallback?: ChannelName[];
  render(input: {
    data: Record<string, unknown>;
    recipient?: Recipient;
    locale?: string;
    channels?: readonly ChannelName[];
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
