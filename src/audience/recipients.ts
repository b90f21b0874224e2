import type { Recipient } from '../contract/envelope';
import type { StoredSubscriber } from './subscriberStore';

/** Someone one envelope goes to: an envelope recipient or a topic member, with their directory entry. */
export interface Target {
  /** Position in the envelope's `to`; null for a topic member. */
  index: number | null;
  recipient: Recipient;
  subscriber?: StoredSubscriber;
}

/** The directory's fields under the envelope's: what the envelope gives wins for that message. */
export function fillRecipient(given: Recipient, subscriber: StoredSubscriber | undefined): Recipient {
  if (!subscriber) return given;
  return { ...subscriber.fields, userId: subscriber.userId, ...given };
}
