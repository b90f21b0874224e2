import { randomUUID } from 'node:crypto';
import type { Recipient } from '../contract/envelope';
import { HeraldError, ValidationError } from '../errors';
import type { AnyChannel, ChannelRuntime } from '../senders/channel';
import type { ChannelRuntimes } from '../senders/channelSet';
import { channels, type Channels } from '../senders/registry';
import type { ChannelAccountService } from './channelAccountService';

/** What one test send through an account came to, as POST /v1/channel-accounts/:name/test answers. */
export interface AccountTestResult {
  account: string;
  channel: string;
  /** `sent`, or why not: `deferred` (its rate budget is spent), `retryable`, `permanent`, `skipped`. */
  outcome: 'sent' | 'deferred' | 'retryable' | 'permanent' | 'skipped';
  code: string | null;
  message: string | null;
  providerId: string | null;
  durationMs: number;
}

export type AccountTester = (name: string, to: Recipient | undefined) => Promise<AccountTestResult>;

/**
 * Sends one fixed message through a stored account with the channel's own sender (the same job, egress
 * and rate budget as a delivery), without a message or delivery row: the caller records the outcome.
 */
export function createAccountTester(deps: {
  accounts: ChannelAccountService;
  channels: ChannelRuntimes<Channels>;
}): AccountTester {
  const registered: readonly AnyChannel[] = channels;
  return async (name, to) => {
    const view = await deps.accounts.get(name);
    const channel = registered.find((c) => c.account?.type === view.type);
    // Every channel of the same runtime map was bound from this list; the item types are the channel's own.
    const runtime =
      channel && (deps.channels.get(channel.name as Channels[number]['name']) as ChannelRuntime);
    if (!channel?.testMessage || !runtime)
      throw new HeraldError('test_not_offered', `${view.type} accounts offer no test send`, 422);
    const address = to && channel.address(to as never);
    if (channel.fanOut === 'perRecipient' && !address)
      throw new ValidationError(
        'test_needs_recipient',
        `a test through a ${view.type} account needs a recipient in "to": ${channel.missingAddress}`,
      );
    const id = `test-${randomUUID()}`;
    const part = channel.testMessage(name, {
      title: `Herald test message (${name})`,
      body: 'Sent from Herald to check this channel account. Nothing else was sent.',
    });
    const [result] = await runtime.sendBatch(
      [
        {
          base: { deliveryId: id, messageId: id, attempt: 1 },
          parts: { [channel.name]: part },
          recipient: to,
        },
      ],
      { to: to ? [to] : [], atAll: false },
    );
    const base = { account: name, channel: channel.name, code: null, message: null, providerId: null };
    if (!result || result.kind === 'skipped')
      return { ...base, outcome: 'skipped', message: result?.reason ?? 'nothing sent', durationMs: 0 };
    const o = result.outcome;
    const durationMs = Math.round(result.durationMs);
    switch (o.kind) {
      case 'sent':
        return { ...base, outcome: 'sent', providerId: o.providerId ?? null, durationMs };
      case 'deferred':
        return { ...base, outcome: 'deferred', code: 'waiting', message: o.reason, durationMs };
      default:
        return { ...base, outcome: o.kind, code: o.code, message: o.message, durationMs };
    }
  };
}
