import { randomUUID } from 'node:crypto';
import type { Channel } from 'amqplib';
import type { FastifyBaseLogger } from 'fastify';
import { z } from 'zod';
import type { BrokerConnection } from './brokerConnection';
import { publishConfirmed } from './confirmPublish';

export interface ChangeTargets {
  templates: { invalidate(code?: string): void; onChange(l: (code: string) => void): () => void };
  accounts: {
    invalidate(name: string): void;
    onChange(l: (name: string, origin: 'local' | 'remote') => void): () => void;
  };
  apiKeys: {
    invalidate(id?: string): void;
    onChange(l: (id: string, origin: 'local' | 'remote') => void): () => void;
  };
}

const changeEventSchema = z.object({
  kind: z.enum(['template', 'account', 'apiKey']),
  name: z.string(),
  from: z.string(),
});
type ChangeEvent = z.infer<typeof changeEventSchema>;

/**
 * Announces one change from a process that runs no broadcast of its own (the CLI), with a confirm, so the
 * announcement is out before the process exits.
 */
export async function announceChange(
  broker: BrokerConnection,
  exchange: string,
  kind: ChangeEvent['kind'],
  name: string,
): Promise<void> {
  const model = broker.current();
  if (!model) throw new Error('not connected to RabbitMQ');
  const ch = await model.createConfirmChannel();
  try {
    await ch.assertExchange(exchange, 'fanout', { durable: true });
    const event: ChangeEvent = { kind, name, from: randomUUID() };
    await publishConfirmed(ch, exchange, '', Buffer.from(JSON.stringify(event)), { persistent: false });
  } finally {
    await ch.close().catch(() => undefined);
  }
}

/**
 * Keeps every instance's template, account and API-key caches honest: a write here is announced on the `events`
 * fan-out exchange, and each instance's exclusive queue turns announcements from others into
 * invalidations. After a reconnect the template and API-key caches are dropped whole, since announcements were missed.
 */
export async function startChangeBroadcast(
  broker: BrokerConnection,
  exchange: string,
  targets: ChangeTargets,
  log: FastifyBaseLogger,
): Promise<() => void> {
  const me = randomUUID();
  let channel: Channel | undefined;
  await broker.onConnect(async (model) => {
    const ch = await model.createChannel();
    ch.on('error', () => undefined);
    await ch.assertExchange(exchange, 'fanout', { durable: true });
    const { queue } = await ch.assertQueue('', { exclusive: true, autoDelete: true });
    await ch.bindQueue(queue, exchange, '');
    await ch.consume(
      queue,
      (msg) => {
        if (!msg) return;
        try {
          const e = changeEventSchema.parse(JSON.parse(msg.content.toString('utf8')));
          if (e.from === me) return;
          if (e.kind === 'template') targets.templates.invalidate(e.name);
          else if (e.kind === 'account') targets.accounts.invalidate(e.name);
          else targets.apiKeys.invalidate(e.name);
        } catch (err) {
          log.warn({ err }, 'ignored a malformed change event');
        }
      },
      { noAck: true },
    );
    channel = ch;
    targets.templates.invalidate();
    targets.apiKeys.invalidate();
  });
  const announce = (kind: ChangeEvent['kind'], name: string) => {
    const event: ChangeEvent = { kind, name, from: me };
    // Best effort: a missed announcement is bounded by the caches' TTLs.
    channel?.publish(exchange, '', Buffer.from(JSON.stringify(event)));
  };
  const offTemplates = targets.templates.onChange((code) => announce('template', code));
  const offAccounts = targets.accounts.onChange(
    (name, origin) => origin === 'local' && announce('account', name),
  );
  const offApiKeys = targets.apiKeys.onChange((id, origin) => origin === 'local' && announce('apiKey', id));
  return () => {
    offTemplates();
    offAccounts();
    offApiKeys();
  };
}
