import type { DeadLetterInput } from './deadLetterStore';
import { spellOutNul } from '../contract/nulCharacter';

/**
 * Dead letters that never reached dispatch, so no message row says what became of them: bytes that do not
 * decode, and envelopes no queue was bound for. With a usable `message-id` they are recorded as a `rejected`
 * message too, so `GET /v1/messages/:id` answers. (Dispatch records its own rejections.)
 */
const NOT_SEEN_BY_DISPATCH = new Set(['invalid_json', 'invalid_utf8', 'unroutable']);

export function messageRejectionOf(
  d: DeadLetterInput,
): { id: string; templateCode?: string; reason: string } | undefined {
  const id = d.messageId;
  if (!NOT_SEEN_BY_DISPATCH.has(d.code) || !id || id.length > 128 || id.includes('\u0000')) return undefined;
  const template = /^notify\.([a-z0-9][a-z0-9_.-]{0,99})$/i.exec(d.routingKey ?? '')?.[1];
  return {
    id,
    ...(template ? { templateCode: template } : {}),
    reason: spellOutNul(`${d.code}: ${d.reason}`),
  };
}
