import { createCallBatcher } from '../db/callBatcher';
import type { SqlClient } from '../db/sqlClient';
import {
  acceptMessages,
  claimDue,
  ensureDeliveries,
  recordResults,
  type AcceptedMessage,
  type AttemptResult,
  type DeliveriesToEnsure,
  type DeliveryRow,
  type EnsuredDelivery,
  type MessageStatus,
  type MessageToAccept,
} from './deliveryState';

/** The per-envelope steps of dispatch, each one call per envelope. */
export interface DeliveryStore {
  accept(m: MessageToAccept): Promise<AcceptedMessage>;
  ensure(req: DeliveriesToEnsure): Promise<EnsuredDelivery[]>;
  claim(messageId: string): Promise<DeliveryRow[]>;
  record(messageId: string, results: readonly AttemptResult[], messageStatus: MessageStatus): Promise<void>;
}

/**
 * Each step's calls from the envelopes in flight together (a prefetch window) become one statement:
 * round trips per envelope, not rows, are what limits throughput on a small machine.
 */
export function createDeliveryStore(sql: SqlClient, leaseMs: number): DeliveryStore {
  const accept = createCallBatcher((ms: MessageToAccept[]) => acceptMessages(sql, ms));
  const ensure = createCallBatcher((reqs: DeliveriesToEnsure[]) => ensureDeliveries(sql, reqs));
  const claim = createCallBatcher((ids: string[]) => claimDue(sql, ids, leaseMs));
  const record = createCallBatcher(
    async (
      batch: Array<{ messageId: string; results: readonly AttemptResult[]; messageStatus: MessageStatus }>,
    ) => {
      await recordResults(sql, batch);
      return batch.map(() => undefined);
    },
  );
  return {
    accept,
    ensure,
    claim,
    record: (messageId, results, messageStatus) => record({ messageId, results, messageStatus }),
  };
}
