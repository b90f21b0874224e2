import type { Channel, ConsumeMessage } from 'amqplib';
import type { TopologyNames } from '../broker/topologyNames';

/**
 * Routes `herald` through internal exchanges (the critical hop, then herald.route, whose alternate exchange
 * catches the rest) so that an envelope whose routing key no queue binds lands in herald.dead instead of
 * being dropped by RabbitMQ without a trace.
 *
 * Why not `alternate-exchange` on `herald` itself: RabbitMQ refuses to redeclare an exchange with other
 * arguments, both ways round — deployments that declared `herald` before could not start, and every
 * publisher that declares `herald` without the argument (older SDKs, other languages' clients) would be
 * refused once it had it. A policy would need the management API or rabbitmqctl, which Herald does not
 * hold. The exchange-to-exchange hop leaves `herald` exactly as publishers know it, and RabbitMQ delivers a
 * message once per queue however many bindings lead there, so the old direct binding can be dropped after
 * the new path is in place with no moment where `notify.#` routes nowhere.
 */
export async function declareUnroutableCapture(ch: Channel, names: TopologyNames): Promise<void> {
  await ch.assertExchange(names.unroutable, 'fanout', { durable: true });
  await ch.bindQueue(names.dead, names.unroutable, '');
  await ch.assertExchange(names.route, 'topic', {
    durable: true,
    internal: true,
    arguments: { 'alternate-exchange': names.unroutable },
  });
  await ch.bindQueue(names.dispatch, names.route, 'notify.#');
  // herald → herald.route.critical → (alternate) herald.route: a critical template's key is bound on the
  // first hop and goes to herald.dispatch.critical only; every other key falls through to the old path.
  await ch.assertExchange(names.routeCritical, 'topic', {
    durable: true,
    internal: true,
    arguments: { 'alternate-exchange': names.route },
  });
  await ch.bindExchange(names.routeCritical, names.exchange, '#');
  // Dropped only once the new hop is bound, so no moment routes nowhere. An instance of an earlier
  // version binds it again when it starts: critical envelopes then reach both queues, and dispatch,
  // idempotent on the envelope id, sends them once.
  await ch.unbindExchange(names.route, names.exchange, '#');
  await ch.unbindQueue(names.dispatch, names.exchange, 'notify.#');
}

/**
 * Whether a message on herald.dead came there through the alternate exchange: Herald's own dead letters
 * come by the default exchange with an `x-herald-code`, RabbitMQ's with `x-death`; an unroutable one keeps
 * the exchange it was published to and carries neither.
 */
export function cameUnroutable(msg: ConsumeMessage, names: TopologyNames): boolean {
  const headers = msg.properties.headers ?? {};
  return msg.fields.exchange === names.exchange && !headers['x-herald-code'] && !headers['x-death'];
}
