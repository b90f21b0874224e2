import { SpanKind, type SpanOptions } from '@opentelemetry/api';

/** OpenTelemetry's messaging conventions (still incubating there, so spelled out here). */
export const MESSAGING_SYSTEM = 'messaging.system';
export const MESSAGING_OPERATION = 'messaging.operation.type';
export const MESSAGING_DESTINATION = 'messaging.destination.name';
export const MESSAGING_ROUTING_KEY = 'messaging.rabbitmq.destination.routing_key';
export const MESSAGING_MESSAGE_ID = 'messaging.message.id';
export const MESSAGING_BATCH_COUNT = 'messaging.batch.message_count';

/** The producer span of one envelope published to `exchange` (named `send <exchange>` by the conventions). */
export function publishSpan(
  exchange: string,
  routingKey: string,
  messageId: string | undefined,
): { name: string; options: SpanOptions } {
  return {
    name: `send ${exchange || 'default'}`,
    options: {
      kind: SpanKind.PRODUCER,
      attributes: {
        [MESSAGING_SYSTEM]: 'rabbitmq',
        [MESSAGING_OPERATION]: 'send',
        [MESSAGING_DESTINATION]: exchange,
        [MESSAGING_ROUTING_KEY]: routingKey,
        ...(messageId ? { [MESSAGING_MESSAGE_ID]: messageId } : {}),
      },
    },
  };
}
