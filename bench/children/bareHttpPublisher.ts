import amqplib from 'amqplib';
import Fastify from 'fastify';
import type { AddressInfo } from 'node:net';
import { envelopeSchema, routingKeyFor } from '../../src/contract/envelope';
import { serveRpc } from '../lib/childRpc';

/**
 * The HTTP publish baseline: a bare Fastify server that validates the same envelope schema and
 * confirm-publishes to a durable topic exchange bound to a quorum queue, as Herald's dispatch is, and
 * answers 202. Nothing else: no auth, no problem+json, no OpenAPI, no logging.
 */
const AMQP_URL = process.env.TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
let close: (() => Promise<void>) | undefined;

serveRpc({
  async listen(args: { prefix: string }): Promise<{ port: number }> {
    const conn = await amqplib.connect(AMQP_URL);
    const ch = await conn.createConfirmChannel();
    const exchange = `${args.prefix}bare.publish`;
    const queue = `${args.prefix}bare.publish.q`;
    await ch.assertExchange(exchange, 'topic', { durable: true });
    await ch.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
    await ch.bindQueue(queue, exchange, 'notify.#');
    const app = Fastify({ logger: false, bodyLimit: 1024 * 1024 });
    app.post('/v1/messages', async (req, reply) => {
      const parsed = envelopeSchema.safeParse(req.body);
      if (!parsed.success) return reply.code(400).send({ error: 'invalid envelope' });
      const body = Buffer.from(JSON.stringify(parsed.data));
      await new Promise<void>((resolve, reject) =>
        ch.publish(
          exchange,
          routingKeyFor(parsed.data.template),
          body,
          { persistent: true, contentType: 'application/json', messageId: parsed.data.id },
          (err) => (err ? reject(new Error(String(err))) : resolve()),
        ),
      );
      return reply.code(202).send({ id: parsed.data.id });
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    close = async () => {
      await app.close();
      await ch.deleteQueue(queue);
      await ch.deleteExchange(exchange);
      await conn.close();
    };
    return { port: (app.server.address() as AddressInfo).port };
  },
  async close(): Promise<null> {
    await close?.();
    return null;
  },
});
