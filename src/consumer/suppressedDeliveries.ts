import type { ChannelName, Recipient } from '../contract/envelope';
import type { TransactionalSqlClient, SqlClient } from '../db/sqlClient';
import type { AttemptResult, DeliveryRow, PlannedDelivery } from '../delivery/deliveryState';
import { normalAddress, suppressionBlocks, type Suppressions } from '../audience/suppressionList';
import { channelByName } from '../senders/registry';
import type { SendAudience } from './sendDeliveries';

const SUPPRESSED = 'suppressed';

/** The address a delivery goes to on a channel whose addresses the suppression list holds (mail). */
function suppressibleAddress(channel: ChannelName, recipient: Recipient | undefined): string | undefined {
  const def = channelByName.get(channel);
  return def?.suppressible && recipient ? def.address(recipient) : undefined;
}

/** Those of `items` whose address is suppressed for this template (one query for them all). */
async function suppressedOf<T>(
  sql: SqlClient,
  suppressions: Suppressions,
  items: readonly T[],
  addressOf: (item: T) => string | undefined,
  critical: boolean,
): Promise<Set<T>> {
  const addresses = items.flatMap((item) => addressOf(item) ?? []);
  if (addresses.length === 0) return new Set();
  const suppressed = await suppressions.among(sql, addresses);
  return new Set(
    items.filter((item) => {
      const address = addressOf(item);
      const reason = address === undefined ? undefined : suppressed.get(normalAddress(address));
      return reason !== undefined && suppressionBlocks(reason, critical);
    }),
  );
}

/**
 * Splits claimed deliveries into those to send and those whose address on a suppressible channel is on
 * the suppression list, which end `skipped` with reason `suppressed` before anything is rendered or sent.
 * Checked at every send, a retry's too, so an address suppressed after its delivery was planned gets
 * nothing more. One query per batch.
 */
export async function withoutSuppressed(
  sql: TransactionalSqlClient,
  suppressions: Suppressions,
  claimed: readonly DeliveryRow[],
  audience: SendAudience,
  critical: boolean,
): Promise<{ send: DeliveryRow[]; skipped: AttemptResult[] }> {
  const blocked = await suppressedOf(
    sql,
    suppressions,
    claimed,
    (row) => suppressibleAddress(row.channel, audience.recipientOf(row)),
    critical,
  );
  return {
    send: claimed.filter((row) => !blocked.has(row)),
    skipped: claimed
      .filter((row) => blocked.has(row))
      .map((row) => ({
        deliveryId: row.id,
        attempt: row.attempts,
        durationMs: 0,
        status: 'skipped',
        reason: SUPPRESSED,
      })),
  };
}

/**
 * The planned deliveries with those to a suppressed address `skipped` (`suppressed`) before they are
 * recorded: for a template with a throttle or deduplication, so that what will not be sent neither uses
 * the person's budget nor registers its content. The check at send (withoutSuppressed) still stands.
 */
export async function planSuppressedSkipped(
  sql: SqlClient,
  suppressions: Suppressions,
  planned: readonly PlannedDelivery[],
  recipientOf: (p: PlannedDelivery) => Recipient | undefined,
  critical: boolean,
): Promise<PlannedDelivery[]> {
  const queued = planned.filter((p) => p.status === 'queued');
  const blocked = await suppressedOf(
    sql,
    suppressions,
    queued,
    (p) => suppressibleAddress(p.channel, recipientOf(p)),
    critical,
  );
  return planned.map((p) => (blocked.has(p) ? { ...p, status: 'skipped', reason: SUPPRESSED } : p));
}
