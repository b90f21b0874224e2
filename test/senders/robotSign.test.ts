import { createHmac } from 'node:crypto';
import { maskWebhook, signedWebhookUrl } from '../../src/senders/dingtalk/sign';

const SECRET = 'SECtest-secret';
const WEBHOOK = 'https://oapi.dingtalk.com/robot/send?access_token=abc123';

describe('robot request signing', () => {
  it('appends timestamp and the URL-encoded Base64 HMAC-SHA256 of "timestamp\\nsecret"', () => {
    // A timestamp whose signature holds the characters that break when left unencoded.
    let ts = 1_700_000_000_000;
    const sig = (t: number) => createHmac('sha256', SECRET).update(`${t}\n${SECRET}`).digest('base64');
    while (!/[+/]/.test(sig(ts))) ts += 1;
    const url = new URL(signedWebhookUrl(WEBHOOK, SECRET, ts));
    expect(url.search).not.toMatch(/sign=[^&]*[+/=]/);
    expect(url.searchParams.get('access_token')).toBe('abc123');
    expect(url.searchParams.get('timestamp')).toBe(String(ts));
    expect(url.searchParams.get('sign')).toBe(sig(ts));
  });

  it('leaves the webhook alone when the robot does not sign', () => {
    expect(signedWebhookUrl(WEBHOOK, undefined, 1)).toBe(WEBHOOK);
  });

  it('masks the access token and signature in text', () => {
    expect(maskWebhook(`POST ${WEBHOOK}&timestamp=1&sign=abc%2B failed`)).toBe(
      'POST https://oapi.dingtalk.com/robot/send?access_token=***&timestamp=1&sign=*** failed',
    );
  });
});
