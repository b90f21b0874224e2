import { cancelOutcomeView } from '../contract/cancelView';
import type { CancelOutcome } from '../delivery/cancelMessage';

/** Where the SDK reaches Herald's HTTP API (cancellation is an HTTP call; publishing stays on AMQP). */
export interface HeraldApiOptions {
  /** e.g. https://herald.internal:3000 */
  baseUrl: string;
  /** An API key with the `publish` scope (`herald keys create <name> publish`), or an admin token. */
  token: string;
}

export class CancelError extends Error {
  constructor(
    message: string,
    readonly code: 'not_configured' | 'not_found' | 'nothing_pending' | 'request_failed',
  ) {
    super(message);
    this.name = 'CancelError';
  }
}

/** POST /v1/messages/:id/cancel; resolves with what was cancelled and what had gone out already. */
export async function cancelOverHttp(
  api: HeraldApiOptions | undefined,
  id: string,
  by?: string,
): Promise<CancelOutcome> {
  if (!api)
    throw new CancelError('cancel needs the `api` option (baseUrl and a publish key)', 'not_configured');
  const res = await fetch(`${api.baseUrl.replace(/\/$/, '')}/v1/messages/${encodeURIComponent(id)}/cancel`, {
    method: 'POST',
    headers: { authorization: `Bearer ${api.token}`, 'content-type': 'application/json' },
    body: JSON.stringify(by ? { by } : {}),
  }).catch((err: unknown) => {
    throw new CancelError(`cancel ${id}: ${(err as Error).message}`, 'request_failed');
  });
  if (res.status === 200) {
    const body = cancelOutcomeView.safeParse(await res.json());
    if (body.success) return body.data;
    throw new CancelError(`cancel ${id}: unexpected answer (${body.error.message})`, 'request_failed');
  }
  const detail = await res.text();
  if (res.status === 404) throw new CancelError(`message "${id}" does not exist`, 'not_found');
  if (res.status === 409)
    throw new CancelError(`message "${id}" has nothing left to cancel`, 'nothing_pending');
  throw new CancelError(`cancel ${id}: HTTP ${res.status} ${detail.slice(0, 200)}`, 'request_failed');
}
