import { audienceOf, type Envelope, type Recipient } from '../contract/envelope';
import { ERASED } from '../contract/subscriber';
import { fillRecipient, type Target } from '../audience/recipients';
import type { SubscriberLookup } from '../audience/subscriberStore';

export interface DirectAudience {
  /** The envelope's own recipients, filled from the directory (envelope fields win). */
  direct: Target[];
  /** The same recipients, as a group post mentions them. */
  mentions: Recipient[];
}

/** The recipients an envelope names itself (not its topics), with their directory entries: one lookup. */
export async function directAudience(lookup: SubscriberLookup, env: Envelope): Promise<DirectAudience> {
  const audience = audienceOf(env);
  // A recipient erased (DELETE /v1/subscribers/:userId) while its envelope was kept gets nothing more.
  const named = audience.recipients.filter(({ recipient }) => recipient.userId !== ERASED);
  const directory = await lookup(
    named.flatMap(({ recipient }) => (recipient.userId ? [recipient.userId] : [])),
  );
  const direct = named.map(({ index, recipient }) => {
    const subscriber = recipient.userId ? directory.get(recipient.userId) : undefined;
    return { index, recipient: fillRecipient(recipient, subscriber), subscriber };
  });
  return { direct, mentions: direct.map((t) => t.recipient) };
}
