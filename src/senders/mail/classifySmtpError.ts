import type { SendOutcome } from '../sender';

type FailureOutcome = Extract<SendOutcome, { kind: 'retryable' | 'permanent' }>;

interface SmtpErrorShape {
  code?: unknown;
  command?: unknown;
  responseCode?: unknown;
  response?: unknown;
  message?: unknown;
}

/**
 * Failures before the server greeted as an SMTP server. All of them read the same: a refused port, a
 * filtered one, one that stays silent, one that speaks another protocol or fails TLS would otherwise tell
 * an admin token holder which hosts and ports are open on Herald's network (the cause is logged at debug).
 */
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
  'EPROTOCOL',
  'ETIMEDOUT',
  'ETIME',
]);
/** Errors no retry can fix: the account is misconfigured or the message cannot be built. */
const CONFIG_CODES = new Set(['ENOAUTH', 'EAUTH', 'ECONFIG', 'EMESSAGE', 'EENVELOPE', 'EREQUIRETLS']);

/**
 * One outcome, word for word, for every way of not reaching an SMTP server, recorded with no duration:
 * a refused port fails at once and a filtered or silent one after a timeout, so the time would tell them
 * apart as plainly as the cause.
 */
export const SMTP_UNREACHABLE: FailureOutcome = Object.freeze({
  kind: 'retryable',
  code: 'smtp_unreachable',
  message:
    'the SMTP server could not be reached or did not answer as one (the cause is in the server log at debug level)',
  concealDuration: true,
});

/** The cause behind an `smtp_unreachable` outcome, for the server log only. */
export function smtpFailureDetail(err: unknown): { smtpCode?: string; detail: string } {
  const e: SmtpErrorShape = typeof err === 'object' && err !== null ? err : {};
  return {
    ...(typeof e.code === 'string' ? { smtpCode: e.code } : {}),
    detail: oneLine(String(e.message ?? err ?? 'unknown error')),
  };
}

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
  // Before the reply codes: a reply during the connection phase is a greeting, which a non-SMTP port may fake.
  if (e.command === 'CONN') return SMTP_UNREACHABLE;
  if (typeof e.responseCode === 'number' && e.responseCode >= 400 && e.responseCode < 600) {
    const permanent = e.responseCode >= 500 && e.responseCode !== 503;
    return { kind: permanent ? 'permanent' : 'retryable', code: `smtp_${e.responseCode}`, message: text };
  }
  if (code && CONNECTION_CODES.has(code)) return SMTP_UNREACHABLE;
  if (code && CONFIG_CODES.has(code))
    return { kind: 'permanent', code: `smtp_${code.slice(1).toLowerCase()}`, message: text };
  return { kind: 'retryable', code: 'smtp_error', message: text };
}

/**
 * RFC 3463 addressing statuses that say the recipient's address itself is bad: 5.1.0 (other), 5.1.1 (no
 * such mailbox), 5.1.2 (bad domain), 5.1.3 (bad syntax), 5.1.6 (moved), 5.1.10 (null MX).
 */
const BAD_MAILBOX = /^55[013][ -]5\.1\.(?:0|1|2|3|6|10)(?!\d)/;

/**
 * Whether the server refused the recipient at RCPT TO because the mailbox does not exist (Gmail: "550-5.1.1
 * The email account that you tried to reach does not exist"). Only with such an enhanced status code: a bare
 * 550 is as often a policy refusal (relaying denied, spam: 5.7.x), which says nothing about the address and,
 * from a misconfigured account, would suppress every recipient.
 */
export function rejectsMailbox(err: unknown): boolean {
  const e: SmtpErrorShape = typeof err === 'object' && err !== null ? err : {};
  return e.command === 'RCPT TO' && typeof e.response === 'string' && BAD_MAILBOX.test(e.response.trim());
}

function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim().slice(0, 1000);
}
