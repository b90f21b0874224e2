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

/** What every send job carries, whatever its channel. */
export interface JobBase {
  deliveryId: string;
  messageId: string;
  /** 1 for the first attempt. */
  attempt: number;
}

/** One per channel; senders hold no per-call mutable state. */
export interface Sender<J extends JobBase> {
  readonly channel: string;
  send(job: J): Promise<SendOutcome>;
  /** Optional batch path (IM stores all items of a message in one transaction); outcomes in job order. */
  sendMany?(jobs: J[]): Promise<SendOutcome[]>;
  close?(): Promise<void>;
}
