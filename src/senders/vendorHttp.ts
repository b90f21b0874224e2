import axios, { isAxiosError } from 'axios';
import { EgressRefusedError, type EgressGuard } from './egress';
import type { SendOutcome } from './sender';

/** A vendor's raw answer: the status and the body as text, so a non-JSON answer is seen as such. */
export interface VendorAnswer {
  status: number;
  body: string;
}

/**
 * One JSON request to a vendor with a per-call config (no shared axios instance), answering whatever came
 * back; only a request that got no answer (timeout, network) throws, and one the egress guard refuses
 * (the URL, or the address its host resolved to) throws an EgressRefusedError before anything is sent.
 */
export async function requestVendor(
  egress: EgressGuard,
  method: 'GET' | 'POST',
  url: string,
  body: unknown,
  timeoutMs: number,
): Promise<VendorAnswer> {
  egress.checkUrl(url);
  try {
    const res = await axios.request<string>({
      method,
      url,
      data: method === 'POST' ? body : undefined,
      timeout: timeoutMs,
      headers: method === 'POST' ? { 'content-type': 'application/json' } : {},
      responseType: 'text',
      transformResponse: (data: unknown) => data,
      validateStatus: () => true,
      maxRedirects: 0,
      lookup: egress.lookupFor(url),
    });
    return { status: res.status, body: typeof res.data === 'string' ? res.data : String(res.data ?? '') };
  } catch (err) {
    if (isAxiosError(err) && err.cause instanceof EgressRefusedError) throw err.cause;
    throw err;
  }
}

/** The answer's JSON object, or undefined when it is not one. */
export function parseJsonObject(raw: string): Record<string, unknown> | undefined {
  try {
    const data: unknown = JSON.parse(raw);
    return typeof data === 'object' && data !== null && !Array.isArray(data)
      ? (data as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** An integer field that vendors send as a number or a numeric string. */
export function integerField(obj: Record<string, unknown>, key: string): number | undefined {
  const v = obj[key];
  const n = typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : v;
  return typeof n === 'number' && Number.isInteger(n) ? n : undefined;
}

/**
 * The outcome of an HTTP status that is not a 2xx with a body to classify: 5xx, 408 and 429 are worth
 * another try, other statuses are not. Undefined for a 2xx.
 */
export function classifyHttpStatus(
  prefix: string,
  answer: VendorAnswer,
  mask: Mask,
): SendOutcome | undefined {
  const { status } = answer;
  if (status >= 200 && status < 300) return undefined;
  const kind = status >= 500 || status === 408 || status === 429 ? 'retryable' : 'permanent';
  return { kind, code: `${prefix}_http_${status}`, message: `HTTP ${status}${snippet(answer.body, mask)}` };
}

/**
 * The request never got an answer: a timeout or a network failure, both worth another try; or it was
 * never made, because its host is not allowed, which no retry changes.
 */
export function classifyRequestError(prefix: string, err: unknown, mask: Mask): SendOutcome {
  if (err instanceof EgressRefusedError)
    return { kind: 'permanent', code: `${prefix}_host_not_allowed`, message: mask(err.message) };
  if (isAxiosError(err)) {
    const timedOut = err.code === 'ECONNABORTED' || err.code === 'ETIMEDOUT';
    return {
      kind: 'retryable',
      code: timedOut ? `${prefix}_timeout` : `${prefix}_network`,
      message: mask(`${err.code ?? 'ERROR'}: ${err.message}`),
    };
  }
  return { kind: 'retryable', code: `${prefix}_network`, message: mask(String(err)) };
}

/** Hides credentials a vendor carries in its URLs before text reaches a log or an attempt row. */
export type Mask = (text: string) => string;

export function snippet(raw: string, mask: Mask): string {
  const s = mask(raw.replace(/\s+/g, ' ').trim()).slice(0, 200);
  return s ? `: ${s}` : '';
}

export function isHttpUrl(s: string): boolean {
  try {
    const u = new URL(s);
    return u.protocol === 'https:' || u.protocol === 'http:';
  } catch {
    return false;
  }
}

/** A robot account whose webhook is not an http(s) URL: no request is made, and no retry can fix it. */
export const badWebhook = (vendor: string, account: string): SendOutcome => ({
  kind: 'permanent',
  code: `${vendor}_bad_webhook`,
  message: `robot "${account}" has no valid webhook URL`,
});
