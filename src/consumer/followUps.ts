import type { ConfirmChannel, ConsumeMessage } from 'amqplib';
import type { FastifyBaseLogger } from 'fastify';
import { z } from 'zod';
import type { BrokerConnection } from '../broker/brokerConnection';
import { publishConfirmed } from '../broker/confirmPublish';
import type { TopologyNames } from '../broker/topologyNames';
import type { TransactionalSqlClient } from '../db/sqlClient';
import { recordFollowUpFindings } from '../delivery/deliveryState';
import type { FollowUpRunner, PlannedFollowUp } from '../senders/channel';
import { declareDelayQueue } from './topology';
import { retryWhileInfraDown } from './waitForInfra';

/** A follow-up as it waits in RabbitMQ; parsed with this schema when it comes back. */
const followUpMessageSchema = z
  .object({ channel: z.string().min(1), payload: z.unknown() })
  .strict()
  .refine((m) => m.payload !== undefined, { message: 'a follow-up needs its payload' });

export interface FollowUpChannel {
  runner: FollowUpRunner;
  /** The delay before each round (the channel's, or HERALD_FOLLOW_UP_DELAYS). */
  delaysMs: readonly number[];
}

export interface FollowUpQueueOptions {
  broker: BrokerConnection;
  names: TopologyNames;
  /** The channels that have a later check, by name. */
  channels: ReadonlyMap<string, FollowUpChannel>;
  sql: TransactionalSqlClient;
  log: FastifyBaseLogger;
  prefetch?: number;
}

/**
 * Channels' later checks on RabbitMQ, never on a timer in memory: a check waits in a TTL queue of its
 * delay, which dead-letters it into the follow-up queue when due; the consumer role runs it, records the
 * findings through the delivery-state owner, schedules the next round with confirms, and only then acks.
 * A consumer that dies mid-check leaves the message unacked, and another runs it again (recording is
 * idempotent: only `sent` deliveries change).
 */
export function createFollowUpQueue(opts: FollowUpQueueOptions) {
  const { names, log } = opts;
  let channel: ConfirmChannel | undefined;
  let stopping = false;
  const inFlight = new Set<Promise<void>>();
  const delays = [...new Set([...opts.channels.values()].flatMap((c) => c.delaysMs))];

  async function publish(ch: ConfirmChannel, planned: PlannedFollowUp, delayMs: number): Promise<void> {
    if (!delays.includes(delayMs)) throw new Error(`no follow-up wait queue for ${delayMs} ms`);
    await publishConfirmed(
      ch,
      '',
      names.followUpWait(delayMs),
      Buffer.from(JSON.stringify({ channel: planned.channel, payload: planned.payload })),
      { contentType: 'application/json' },
    );
  }

  async function handle(ch: ConfirmChannel, msg: ConsumeMessage): Promise<void> {
    let parsed: z.infer<typeof followUpMessageSchema> | undefined;
    try {
      parsed = followUpMessageSchema.parse(JSON.parse(msg.content.toString('utf8')));
    } catch (err) {
      log.error({ err: (err as Error).message }, 'follow-up: unreadable message dropped');
    }
    const spec = parsed && opts.channels.get(parsed.channel);
    if (!parsed || !spec) {
      if (parsed) log.error({ channel: parsed.channel }, 'follow-up: no such channel; dropped');
      ch.ack(msg);
      return;
    }
    const { findings, next } = await spec.runner.run(parsed.payload, spec.delaysMs);
    await retryWhileInfraDown(() => recordFollowUpFindings(opts.sql, findings), {
      stopping: () => stopping,
    });
    if (next) await publish(ch, { channel: parsed.channel, payload: next.payload }, next.delayMs);
    ch.ack(msg);
  }

  return {
    async start(): Promise<void> {
      if (opts.channels.size === 0) return;
      await opts.broker.onConnect(async (model) => {
        const ch = await model.createConfirmChannel();
        ch.on('error', (err: Error) => log.warn({ err: err.message }, 'follow-up channel error'));
        await ch.assertQueue(names.followUp, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
        for (const ms of delays) await declareDelayQueue(ch, names.followUpWait(ms), ms, names.followUp);
        await ch.prefetch(opts.prefetch ?? 16);
        channel = ch;
        if (stopping) return;
        await ch.consume(names.followUp, (msg) => {
          if (!msg || stopping) return;
          const work = handle(ch, msg).catch((err: unknown) => {
            if (stopping || ch !== channel) return; // unacked: the broker redelivers it
            log.error({ err }, 'follow-up failed; back to its queue');
            try {
              ch.nack(msg, false, true);
            } catch {
              // channel closed: the broker redelivers
            }
          });
          inFlight.add(work);
          void work.finally(() => inFlight.delete(work));
        });
      });
    },
    /** The first round of each planned follow-up; resolves once RabbitMQ has confirmed them all. */
    async schedule(planned: readonly PlannedFollowUp[]): Promise<void> {
      const ch = channel;
      if (!ch) throw new Error('not connected to RabbitMQ: the follow-ups cannot be scheduled');
      await Promise.all(
        planned.map((p) => {
          const first = opts.channels.get(p.channel)?.delaysMs[0];
          if (first === undefined) throw new Error(`channel ${p.channel} has no follow-up`);
          return publish(ch, p, first);
        }),
      );
    },
    async stop(): Promise<void> {
      stopping = true;
      while (inFlight.size) await Promise.allSettled([...inFlight]);
      await channel?.close().catch(() => undefined);
    },
  };
}

export type FollowUpQueue = ReturnType<typeof createFollowUpQueue>;
