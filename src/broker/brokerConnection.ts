import amqplib, { type ChannelModel, type RecoveringChannelModel } from 'amqplib';
import type { FastifyBaseLogger } from 'fastify';

export type ConnectHook = (model: ChannelModel) => Promise<void>;

/**
 * One recovering AMQP connection per process (amqplib's opt-in recovery). Modules register hooks that
 * (re)create their channels, topology and consumers; each runs now and after every reconnect.
 */
export interface BrokerConnection {
  onConnect(hook: ConnectHook): Promise<void>;
  /** Whether a connection is currently up (for /ready). */
  isConnected(): boolean;
  /** The live connection, for short-lived inspection channels; undefined while reconnecting. */
  current(): ChannelModel | undefined;
  close(): Promise<void>;
}

export async function connectBroker(url: string, log: FastifyBaseLogger): Promise<BrokerConnection> {
  const hooks: ConnectHook[] = [];
  let current: ChannelModel | undefined;
  const connection: RecoveringChannelModel = await amqplib.connect(url, {
    recovery: {
      initialDelay: 200,
      maxDelay: 10_000,
      initialMaxRetries: 5,
      maxRetries: Infinity,
      async setup(model: ChannelModel) {
        current = model;
        for (const hook of hooks) await hook(model);
      },
    },
  });
  connection.on('connect', () => log.info('broker: connected'));
  connection.on('disconnect', (err: Error) => {
    current = undefined;
    log.warn({ err: err.message }, 'broker: connection lost; reconnecting');
  });
  connection.on('reconnect-scheduled', (info: { attempt: number; delay: number }) =>
    log.info(info, 'broker: reconnect scheduled'),
  );
  connection.on('error', (err: Error) => log.warn({ err: err.message }, 'broker: connection error'));
  connection.on('handler-error', (err: Error, event: string) =>
    log.error({ err, event }, 'broker: listener failed'),
  );
  return {
    async onConnect(hook) {
      hooks.push(hook);
      if (current) await hook(current);
    },
    isConnected: () => current !== undefined,
    current: () => current,
    async close() {
      await connection.close();
    },
  };
}
