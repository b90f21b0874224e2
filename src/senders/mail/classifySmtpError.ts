import type { SendOutcome } from '../sender';

type FailureOutcome = Extract<SendOutcome, { kind: 'retryable' | 'permanent' }>;

interface SmtpErrorShape {
  code?: unknown;
  command?: unknown;
  responseCode?: unknown;
  response?: unknown;
  message?: unknown;
}

/** Failures of the connection itself: the server may well take the mail a little later. */
const CONNECTION_CODES = new Set([
  'ECONNECTION',
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ESOCKET',
  'EDNS',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETLS',
  'EPROXY',
]);
const TIMEOUT_CODES = new Set(['ETIMEDOUT', 'ETIME']);
/** Errors no retry can fix: the account is misconfigured or the message cannot be built. */
const CONFIG_CODES = new Set(['ENOAUTH', 'EAUTH', 'ECONFIG', 'EMESSAGE', 'EENVELOPE', 'EREQUIRETLS']);

/**
 * SMTP reply codes decide first (RFC 5321: 5yz is final, 4yz is transient; 503 only says the session
 * was in the wrong state); without a reply, the error code says whether the server was reachable.
 */
export function classifySmtpError(err: unknown): FailureOutcome {
  const e: SmtpErrorShape = typeof err === 'object' && err !== null ? err : {};
  const code = typeof e.code === 'string' ? e.code : undefined;
  const text = oneLine(
    typeof e.response === 'string' && e.response ? e.response : String(e.message ?? err ?? 'unknown error'),
  );
  // Only sent when TLS is required before AUTH (smtpTransports): the account must change, not the weather.
  if (e.command === 'STARTTLS')
    return {
      kind: 'permanent',
      code: 'smtp_starttls_required',
      message: `the server refused STARTTLS (${text}); the password is not sent in the clear unless the account sets allowInsecureAuth`,
    };
  if (typeof e.responseCode === 'number' && e.responseCode >= 400 && e.responseCode < 600) {
    const permanent = e.responseCode >= 500 && e.responseCode !== 503;
    return { kind: permanent ? 'permanent' : 'retryable', code: `smtp_${e.responseCode}`, message: text };
  }
  if (code && TIMEOUT_CODES.has(code)) return { kind: 'retryable', code: 'smtp_timeout', message: text };
  if (code && CONNECTION_CODES.has(code))
    return { kind: 'retryable', code: 'smtp_connection', message: text };
  if (code && CONFIG_CODES.has(code))
    return { kind: 'permanent', code: `smtp_${code.slice(1).toLowerCase()}`, message: text };
  return { kind: 'retryable', code: 'smtp_error', message: text };
}

function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim().slice(0, 1000);
}
