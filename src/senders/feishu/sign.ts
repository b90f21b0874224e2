import { createHmac } from 'node:crypto';

/**
 * Feishu's custom-bot signature: Base64(HMAC-SHA256(key = `${timestamp}\n${secret}`, message = empty)),
 * timestamp in seconds, sent in the body as `timestamp` and `sign`; Feishu refuses a timestamp more than an
 * hour from its clock (https://open.feishu.cn/document/client-docs/bot-v3/add-custom-bot, 签名校验).
 */
export function feishuSignature(secret: string, timestampSec: number): string {
  return createHmac('sha256', `${timestampSec}\n${secret}`).update('').digest('base64');
}

/** The webhook with its hook token hidden, for logs and error messages. */
export function maskFeishuHook(text: string): string {
  return text.replace(/(\/open-apis\/bot\/v2\/hook\/)[^/?\s"']+/g, '$1***');
}
