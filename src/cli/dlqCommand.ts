import { topologyNames } from '../broker/topologyNames';
import type { Config } from '../config/loadConfig';
import { createAmqpEnvelopePublisher } from '../broker/envelopePublisher';
import { cliActor, createAuditLog, writeAuditRow } from '../audit/auditLog';
import { createDeadLetterStore } from '../deadLetters/deadLetterStore';
import { NotFoundError } from '../errors';
import { withInfra } from './withInfra';

const USAGE = 'usage: herald dlq list [limit] | herald dlq replay <id> | herald dlq purge --yes';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** `herald dlq list|replay|purge`: the dead letters, as the API shows them. */
export async function dlqCommand(
  config: Config,
  [action, arg]: string[],
  out: (line: string) => void,
): Promise<number> {
  return withInfra(config, async (db, broker) => {
    const publisher = broker
      ? createAmqpEnvelopePublisher(broker, topologyNames(config.HERALD_QUEUE_PREFIX))
      : undefined;
    await publisher?.start();
    const store = createDeadLetterStore(db, () => publisher);
    const audit = createAuditLog(db.prisma);
    switch (action) {
      case 'list': {
        const { items } = await store.list({ limit: Number(arg ?? 50) || 50 });
        if (!items.length) out('no dead letters');
        for (const d of items) {
          out(
            `${d.id}  ${d.createdAt.toISOString()}  ${d.code}  ${d.messageId ?? '-'}  ${d.reason}${d.replayedAt ? '  (replayed)' : ''}`,
          );
        }
        return 0;
      }
      case 'replay': {
        if (!arg) break;
        if (!publisher) {
          out(
            'replay needs AMQP_URL: without a broker the in-process queue lives inside the running server (use its API)',
          );
          return 2;
        }
        // An operator's typo gets a line saying so, not a stack trace from the database driver.
        if (!UUID.test(arg)) {
          out(`"${arg}" is not a dead letter id; herald dlq list shows them`);
          return 2;
        }
        try {
          const d = await store.replay(arg);
          await audit.record({
            actor: cliActor(),
            action: 'deadLetter.replay',
            target: { type: 'deadLetter', id: d.id },
            detail: { messageId: d.messageId, routingKey: d.routingKey, code: d.code },
          });
          out(`replayed ${d.id} (${d.messageId ?? 'no id'}) to ${d.routingKey}`);
          return 0;
        } catch (err) {
          if (!(err instanceof NotFoundError)) throw err;
          out(err.message);
          return 1;
        }
      }
      case 'purge': {
        if (arg !== '--yes') {
          out('purge deletes every dead letter; run it again with --yes');
          return 2;
        }
        const purged = await store.purge((tx, count) =>
          writeAuditRow(tx, {
            actor: cliActor(),
            action: 'deadLetter.purge',
            target: { type: 'deadLetter', id: '*' },
            detail: { purged: count },
          }),
        );
        out(`purged ${purged} dead letters`);
        return 0;
      }
    }
    out(USAGE);
    return 2;
  });
}
