import type { ConsumeMessage } from 'amqplib';
import { z } from 'zod';
import type { TopologyNames } from '../broker/topologyNames';
import { cameUnroutable } from './unroutableCapture';

const header = (msg: ConsumeMessage, name: string): string | undefined => {
  const v = msg.properties.headers?.[name];
  return typeof v === 'string' ? v : Buffer.isBuffer(v) ? v.toString('utf8') : undefined;
};

const xDeathSchema = z.array(z.looseObject({ reason: z.string().optional() }));

/** Why a message is on herald.dead: Herald's own headers, else unroutable, else what RabbitMQ says in x-death. */
export function deadLetterCause(
  msg: ConsumeMessage,
  names: TopologyNames,
  deliveryLimit: number,
): { code: string; reason: string } {
  const code = header(msg, 'x-herald-code');
  if (code) return { code, reason: header(msg, 'x-herald-reason') ?? code };
  if (cameUnroutable(msg, names)) {
    return {
      code: 'unroutable',
      reason: `no queue is bound to routing key "${msg.fields.routingKey}" on exchange "${names.exchange}"; envelopes are published with notify.<template>`,
    };
  }
  const deaths = xDeathSchema.safeParse(msg.properties.headers?.['x-death']);
  const brokerReason = deaths.success ? deaths.data[0]?.reason : undefined;
  if (brokerReason === 'delivery_limit')
    return {
      code: 'delivery_limit',
      reason: `dispatch failed ${deliveryLimit + 1} times; see the consumer's error log`,
    };
  return {
    code: `broker_${brokerReason ?? 'unknown'}`,
    reason: `dead-lettered by RabbitMQ (${brokerReason ?? 'unknown reason'})`,
  };
}
