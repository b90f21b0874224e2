import { signatureHeader, verifySignature } from '../../src/webhooks/signature';
import { statusWebhookEgress } from '../../src/services';

describe('status webhook signature', () => {
  const secret = 'whsec-0123456789abcdef';
  const body = '{"id":"e-1","type":"delivery.sent"}';
  const now = 1_800_000_000;

  it('verifies the body it signed, at its timestamp', () => {
    const header = signatureHeader(secret, now, body);
    expect(header).toMatch(/^t=1800000000,v1=[0-9a-f]{64}$/);
    expect(verifySignature(secret, header, body, { now })).toBe(true);
  });

  it('refuses another body, another secret, an old timestamp and a malformed header', () => {
    const header = signatureHeader(secret, now, body);
    expect(verifySignature(secret, header, body.replace('sent', 'read'), { now })).toBe(false);
    expect(verifySignature('another-secret-0123456', header, body, { now })).toBe(false);
    expect(verifySignature(secret, header, body, { now: now + 301 })).toBe(false);
    expect(verifySignature(secret, 'v1=abc', body, { now })).toBe(false);
    expect(verifySignature(secret, undefined, body, { now })).toBe(false);
  });
});

describe('status webhook egress', () => {
  it('takes any https host, http only for a listed host', () => {
    const egress = statusWebhookEgress([{ host: 'hooks.internal', port: 8080 }]);
    expect(() => egress.checkUrl('https://events.example.com/herald')).not.toThrow();
    expect(() => egress.checkUrl('http://hooks.internal:8080/herald')).not.toThrow();
    expect(() => egress.checkUrl('http://events.example.com/herald')).toThrow(
      /status webhook URLs use https; for http to "events.example.com", add it to HERALD_STATUS_WEBHOOK_ALLOW_HOSTS/,
    );
  });

  it('refuses a public-looking host that resolves inside, unless listed', (done) => {
    const egress = statusWebhookEgress([]);
    egress.lookupFor('https://localhost/x')('localhost', {}, (err) => {
      expect(err?.message).toMatch(/resolved to the private address .*HERALD_STATUS_WEBHOOK_ALLOW_HOSTS/);
      done();
    });
  });
});
