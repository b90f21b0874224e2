import { createHash } from 'node:crypto';

/**
 * The routing key of a user's IM events on the `im` exchange: 22 base64url characters of the SHA-256 of
 * the user id (any length of id fits an AMQP key; a collision only sends a gateway a few events it
 * drops). Publishers and gateways must compute it alike.
 */
export function imRoutingKey(userId: string): string {
  return createHash('sha256').update(userId).digest('base64url').slice(0, 22);
}
