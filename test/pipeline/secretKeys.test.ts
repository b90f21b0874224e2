import { randomBytes } from 'node:crypto';
import { ConfigError } from '../../src/config/loadConfig';
import { smtpAccount as smtpAccountType } from '../../src/senders/mail/smtpAccount';
import { describeWith } from '../support/services';
import { createTestDeployment, eventually, type TestDeployment } from '../support/testHerald';
import { heraldApi } from '../support/heraldApi';

const key = () => randomBytes(32).toString('base64');

const smtpAccount = (name: string) => ({
  name,
  type: 'smtp',
  config: {
    host: '127.0.0.1',
    port: 1,
    secure: false,
    user: 'noreply@example.com',
    password: `pw-${name}-91xq`,
    from: 'Herald <noreply@example.com>',
  },
});

describeWith(['postgres', 'rabbitmq'], 'channel-account secret keys on a shared database', () => {
  let dep: TestDeployment;
  afterEach(async () => {
    await dep?.destroy();
  });

  it('refuses to start when stored secrets do not decrypt, starts with the old key as previous, and re-encrypts on write', async () => {
    const oldKey = key();
    const newKey = key();
    dep = createTestDeployment();
    const first = await dep.start({ HERALD_SECRET_KEY: oldKey });
    await heraldApi(first.baseUrl).post('/v1/channel-accounts', smtpAccount('rotating'), 201);
    await first.stop();

    const refused = await dep.start({ HERALD_SECRET_KEY: newKey }).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(refused).toBeInstanceOf(ConfigError);
    expect((refused as Error).message).toMatch(
      /HERALD_SECRET_KEY: the stored secrets of 1 of 1 channel accounts \(rotating\) do not decrypt with it\..*HERALD_SECRET_KEY_PREVIOUS/,
    );

    const rotated = await dep.start({ HERALD_SECRET_KEY: newKey, HERALD_SECRET_KEY_PREVIOUS: oldKey });
    const api = heraldApi(rotated.baseUrl);
    expect((await api.call('GET', '/v1/channel-accounts')).status).toBe(200);
    expect((await rotated.runtime.ctx.services.accounts.find(smtpAccountType, 'rotating'))?.password).toBe(
      'pw-rotating-91xq',
    );
    // A write seals with the new key: afterwards the previous key is no longer needed.
    const { name: _name, ...replacement } = smtpAccount('rotating');
    await api.expectStatus(200, 'PUT', '/v1/channel-accounts/rotating', replacement);
    await rotated.stop();

    const afterRotation = await dep.start({ HERALD_SECRET_KEY: newKey });
    expect(
      (await afterRotation.runtime.ctx.services.accounts.find(smtpAccountType, 'rotating'))?.password,
    ).toBe('pw-rotating-91xq');
  });

  it('surfaces secrets it cannot decrypt at send time on /ready and /metrics, and retries the delivery instead of failing it', async () => {
    dep = createTestDeployment({ HERALD_RETRY_DELAYS: '1m' });
    const consumer = await dep.start({ HERALD_SECRET_KEY: key() });
    // A misconfigured second instance (api only) writes an account under another key.
    const writer = await dep.start({ HERALD_SECRET_KEY: key(), HERALD_ROLES: 'api' });
    const api = heraldApi(writer.baseUrl);
    await api.post('/v1/channel-accounts', smtpAccount('foreign-key'), 201);
    await api.createTemplate({
      code: 'via_foreign',
      name: 'Via an account another key wrote',
      variables: {},
      channels: { mail: { account: 'foreign-key', subject: 'Hello', html: '<p>Hello</p>' } },
    });
    const ready = await fetch(`${consumer.baseUrl}/ready`);
    expect(ready.status).toBe(200);

    await api.post(
      '/v1/messages',
      { id: 'foreign-1', template: 'via_foreign', to: [{ email: 'li@example.com' }] },
      202,
    );
    const m = await eventually(
      async () => {
        const msg = await heraldApi(consumer.baseUrl).message('foreign-1');
        // The view reads deliveries and their attempts in two queries: under load the status can be read
        // as `sending` just before the attempt and its outcome commit together.
        const d = msg?.deliveries[0];
        return d?.attemptLog.length && d.status !== 'sending' ? msg : undefined;
      },
      15_000,
      'the first attempt',
    );
    const [d] = m.deliveries;
    expect(d).toMatchObject({ status: 'retrying' });
    expect(d?.attemptLog[0]).toMatchObject({ outcome: 'retryable', errorCode: 'secret_decrypt_failed' });

    const notReady = await fetch(`${consumer.baseUrl}/ready`);
    expect(notReady.status).toBe(503);
    const body = (await notReady.json()) as { checks: Record<string, { ok: boolean; error?: string }> };
    expect(body.checks.secrets).toMatchObject({ ok: false });
    expect(body.checks.secrets?.error).toContain('foreign-key');
    const metrics = await (await fetch(`${consumer.baseUrl}/metrics`)).text();
    expect(metrics).toMatch(/herald_secret_decrypt_failures_total\{account="foreign-key"\} [1-9]/);
    expect(metrics).not.toContain('pw-foreign-key-91xq');
  });
});
