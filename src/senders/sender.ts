/**
 * What one send attempt came to; the pipeline decides retries from `kind`. `deferred` means the send was
 * not tried because a budget (a DingTalk robot's 20 a minute) is spent: it waits, logged as `waiting`,
 * and does not count as a failed attempt.
 */
export type SendOutcome =
  /**
   * `answer`: the vendor's reply code where it has one worth showing (SMTP's 250), for traces.
   * `attemptRecorded`: the sender wrote this attempt's row itself, in the transaction of the send (IM).
   */
  | { kind: 'sent'; providerId?: string; answer?: string; attemptRecorded?: true }
  | { kind: 'deferred'; retryAfterMs: number; reason: string }
  | {
      kind: 'retryable';
      code: string;
      message: string;
      retryAfterMs?: number;
      /**
       * The attempt is recorded with a duration of 0: how long it took to fail (a refused port at once, a
       * filtered or silent one after a timeout) would tell what the one wording of `message` hides.
       */
      concealDuration?: true;
    }
  | { kind: 'permanent'; code: string; message: string };

/** What every send job carries, whatever its channel. */
export interface JobBase {
  deliveryId: string;
  messageId: string;
  /** 1 for the first attempt. */
  attempt: number;
  /** The template's category, for channels that show it (an in-site item whose part names none). */
  templateCategory?: string;
  /** The template ignores opt-outs: a mail of it carries no unsubscribe link. */
  critical?: boolean;
  /** The recipient's user id, when they have one (whose preferences a mail's unsubscribe link changes). */
  userId?: string;
}

/** One per channel; senders hold no per-call mutable state. */
export interface Sender<J extends JobBase> {
  readonly channel: string;
  send(job: J): Promise<SendOutcome>;
  /** Optional batch path (IM stores all items of a message in one transaction); outcomes in job order. */
  sendMany?(jobs: J[]): Promise<SendOutcome[]>;
  close?(): Promise<void>;
}
