import { createHmac } from 'node:crypto';

/** DingTalk's robot signature: Base64(HMAC-SHA256(key = secret, message = `${timestamp}\n${secret}`)). */
export function robotSignature(secret: string, timestampMs: number): string {
  return createHmac('sha256', secret).update(`${timestampMs}\n${secret}`).digest('base64');
}

/** The webhook URL to POST to: with `&timestamp=…&sign=…` (URL-encoded) when the robot signs. */
export function signedWebhookUrl(webhook: string, secret: string | undefined, nowMs: number): string {
  if (!secret) return webhook;
  const sep = webhook.includes('?') ? '&' : '?';
  return `${webhook}${sep}timestamp=${nowMs}&sign=${encodeURIComponent(robotSignature(secret, nowMs))}`;
}

/** The webhook with its access_token (and any signature) hidden, for logs and error messages. */
export function maskWebhook(text: string): string {
  return text.replace(/([?&](?:access_token|sign)=)[^&\s"']*/gi, '$1***');
}
