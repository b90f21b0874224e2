import fs from 'node:fs';
import amqplib from 'amqplib';
import type { Browser, Page } from 'playwright-core';
import { CONSOLE_CSP } from '../../src/web/consoleRoute';
import { startSmtpSink, type SmtpSink } from '../senders/support/smtpSink';
import { startWebhookReceiver } from '../webhooks/support/webhookReceiver';
import { heraldApi } from '../support/heraldApi';
import { describeWith, TEST_AMQP_URL } from '../support/services';
import { ADMIN_TOKEN } from '../support/testApp';
import {
  createTestDeployment,
  eventually,
  type TestDeployment,
  type TestHerald,
} from '../support/testHerald';
import { describeWithBrowser, launchChromium } from './support/headlessChromium';

describeWithBrowser('e2e: the admin console in headless Chromium', () => {
  describeWith(['postgres', 'rabbitmq'], 'on a running Herald', () => {
    let dep: TestDeployment;
    let h: TestHerald;
    let sink: SmtpSink;
    let browser: Browser;
    let page: Page;
    let api: ReturnType<typeof heraldApi>;
    const problems: string[] = [];

    const go = async (hash: string) => {
      await page.evaluate(`location.hash = ${JSON.stringify(hash)}`);
    };
    /** Types key by key, as a person does (each key is an input event the preview follows). */
    const typeInto = async (selector: string, text: string) => {
      await page.fill(selector, '');
      await page.locator(selector).pressSequentially(text, { delay: 5 });
    };
    const append = async (selector: string, text: string) => {
      await page.locator(selector).press('End');
      await page.locator(selector).pressSequentially(text, { delay: 5 });
    };

    beforeAll(async () => {
      dep = createTestDeployment({
        HERALD_STATUS_WEBHOOK_ALLOW_HOSTS: '127.0.0.1',
        HERALD_STATUS_WEBHOOK_POLL_MS: '100',
        HERALD_STATUS_WEBHOOK_RETRY_DELAYS: '100ms,200ms',
      });
      h = await dep.start();
      api = heraldApi(h.baseUrl);
      sink = await startSmtpSink();
      await api.createSmtpAccount('outbox', sink.port);
      browser = await launchChromium();
      page = await browser.newPage();
      page.on('pageerror', (err) => problems.push(err.message));
      page.on('console', (m) => {
        if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) problems.push(m.text());
      });
    }, 90_000);

    afterAll(async () => {
      await browser?.close();
      await sink?.close();
      await dep?.destroy();
    }, 60_000);

    it('signs in with the admin token, kept in sessionStorage only and never in the URL', async () => {
      const res = await page.goto(`${h.baseUrl}/console`);
      expect(res?.headers()['content-security-policy']).toBe(CONSOLE_CSP);
      expect(CONSOLE_CSP).not.toContain('unsafe');
      await page.fill('#admin-token', 'not-the-token');
      await page.click('.signin button[type=submit]');
      await page.locator('.signin [role=alert]', { hasText: 'Not signed in' }).waitFor();
      await page.fill('#admin-token', ADMIN_TOKEN);
      await page.click('.signin button[type=submit]');
      await page.locator('h1', { hasText: 'Templates' }).waitFor();
      expect(await page.evaluate("sessionStorage.getItem('herald.adminToken')")).toBe(ADMIN_TOKEN);
      expect(await page.evaluate('localStorage.length')).toBe(0);
      expect((await page.context().cookies()).length).toBe(0);
      expect(page.url()).not.toContain(ADMIN_TOKEN);
    }, 30_000);

    it('creates a template with mail and IM parts, the preview following the typing and flagging variables', async () => {
      await page.click('#new-template');
      await page.locator('h1', { hasText: 'New template' }).waitFor();
      await page.fill('#t-code', 'welcome');
      await page.fill('#t-name', 'Welcome');
      await typeInto('#t-variables', '{"orderNo": "string"}');
      await typeInto('#f-mail-subject', 'Order {{ orderNo }}');
      await typeInto('#f-mail-html', '<p>Hi {{ name }}, order {{ orderNo }}.</p>');
      await typeInto('#f-im-title', 'Order {{ orderNo }}');
      await typeInto('#f-im-body', 'Hello {{ ordrNo }}');
      // The typo is flagged under the IM body, with the declared name it is close to.
      await page
        .locator('.problem[data-place="im.body"]', { hasText: 'ordrNo' })
        .filter({ hasText: 'did you mean orderNo' })
        .waitFor();
      await typeInto('#f-im-body', 'Hello {{ orderNo }}');
      await page.locator('.problem[data-place="im.body"]').waitFor({ state: 'detached' });
      // No sample data yet: the missing variable is flagged beside the sample.
      await page
        .locator('.problem[data-place="sample"]', { hasText: 'orderNo is missing (string)' })
        .waitFor();
      await typeInto('#s-data', '{"orderNo": "A-1"}');
      await typeInto('#s-recipient', '{"name": "Li"}');
      await page.locator('.r-subject', { hasText: 'Order A-1' }).waitFor();
      expect(await page.frameLocator('.r-html').locator('p').textContent()).toBe('Hi Li, order A-1.');
      await append('#f-mail-subject', ' shipped');
      await page.locator('.r-subject', { hasText: 'Order A-1 shipped' }).waitFor();
      await page.locator('.rendered[data-channel="im"] pre', { hasText: '"title": "Order A-1"' }).waitFor();

      await page.click('#save');
      await page.locator('h1', { hasText: 'Template welcome' }).waitFor();
      await page.locator('.meta', { hasText: 'version 1' }).waitFor();
      const stored = await api.expectStatus<{ channels: { mail: { subject: string } } }>(
        200,
        'GET',
        '/v1/templates/welcome',
      );
      expect(stored.channels.mail.subject).toBe('Order {{ orderNo }} shipped');

      // A second version, with rules (a throttle), and its diff against the first.
      await append('#f-mail-subject', ' today');
      await page.fill('#t-rules', '{"category": "orders", "throttle": {"limit": 3, "window": "1m"}}');
      await page.click('#save');
      await page.locator('[role=status]', { hasText: 'Saved version 2' }).waitFor();
      const v2 = await api.expectStatus<{ category: string; throttle: unknown }>(
        200,
        'GET',
        '/v1/templates/welcome',
      );
      expect([v2.category, v2.throttle]).toEqual(['orders', { limit: 3, window: '1m' }]);
      // The editor shows the stored rules again, so the next save keeps them.
      expect(JSON.parse(await page.inputValue('#t-rules'))).toEqual({
        category: 'orders',
        throttle: { limit: 3, window: '1m' },
      });
      await page.click('button:has-text("diff with 1")');
      await page.locator('.diff tr.changed', { hasText: 'today' }).waitFor();
    }, 60_000);

    it('sends a message and watches its deliveries reach sent; retries one that failed', async () => {
      sink.replyNext('rcpt', { code: 550, message: 'no such mailbox' });
      await typeInto('#s-data', '{"orderNo": "A-2"}');
      await page.fill('#s-to-user', 'u-console');
      await page.fill('#s-to-email', 'li@example.com');
      await page.click('#send');
      await page.locator('h1', { hasText: 'Message console-' }).waitFor();
      const mail = page.locator('.delivery[data-channel="mail"] [data-role="delivery-status"]');
      const im = page.locator('.delivery[data-channel="im"] [data-role="delivery-status"]');
      await im.filter({ hasText: 'sent' }).waitFor({ timeout: 20_000 });
      await mail.filter({ hasText: 'failed' }).waitFor({ timeout: 20_000 });
      await page.locator('.delivery[data-channel="mail"] .timeline li', { hasText: 'permanent' }).waitFor();
      await page.click('.delivery[data-channel="mail"] button.retry');
      await mail.filter({ hasText: 'sent' }).waitFor({ timeout: 20_000 });
      await page.locator('.delivery[data-channel="mail"] .timeline li', { hasText: '#2 sent' }).waitFor();
      await page.locator('.message-timeline tr', { hasText: 'message.accepted' }).first().waitFor();
      expect(await page.locator('.message-timeline tr', { hasText: 'mail' }).count()).toBeGreaterThanOrEqual(
        3,
      );
      const mails = await sink.waitForMessages(1);
      expect(mails[0]?.subject).toBe('Order A-2 shipped today');

      await go('#/messages');
      await page.fill('#m-template', 'welcome');
      await page.click('.filters button[type=submit]');
      await page.locator('table tbody tr', { hasText: 'li@example.com' }).first().waitFor();
      expect(await page.locator('table tbody tr').count()).toBe(2);
    }, 60_000);

    it('inspects and replays a dead letter, then purges after a confirmation', async () => {
      const conn = await amqplib.connect(TEST_AMQP_URL);
      try {
        const ch = await conn.createConfirmChannel();
        ch.publish(
          `${dep.prefix}herald`,
          'notify.late',
          Buffer.from(
            JSON.stringify({ id: 'late-1', template: 'late', to: [{ userId: 'u-late' }], data: {} }),
          ),
          { persistent: true, contentType: 'application/json', messageId: 'late-1' },
        );
        await ch.waitForConfirms();
      } finally {
        await conn.close();
      }
      // The dead letter is recorded from herald.dead after the message reads rejected: wait for its row,
      // not the message (under load the page loaded before the row and showed none).
      await eventually(
        async () => (await api.deadLetters({ messageId: 'late-1' })).items.length === 1,
        20_000,
        'the dead letter of late-1',
      );
      await go('#/dead-letters');
      const row = page.locator('tr[data-dead-letter]', { hasText: 'unknown_template' });
      await row.waitFor();
      await row.locator('button.inspect').click();
      await page.locator('tr.envelope pre', { hasText: '"template": "late"' }).waitFor();
      await api.createTemplate({
        code: 'late',
        name: 'Late',
        channels: { im: { title: 'Late', body: 'now' } },
      });
      await row.locator('button.replay').click();
      await page.locator('[role=status]', { hasText: 'Replayed.' }).waitFor();
      await api.reaches('late-1', 'completed');
      await page.click('button.purge');
      expect(await api.deadLetters()).toMatchObject({ items: [expect.anything()] }); // not before the confirmation
      await page.click('button.purge-confirm');
      await page.locator('.empty', { hasText: 'No dead letters.' }).waitFor();
      expect((await api.deadLetters()).items).toEqual([]);
    }, 60_000);

    it('lists a scheduled message by its due time and cancels it', async () => {
      await api.post(
        '/v1/messages',
        { id: 'later-1', template: 'late', to: [{ userId: 'u-later' }], data: {}, delay: '1h' },
        202,
      );
      await api.reaches('later-1', 'scheduled');
      await go('#/scheduled');
      const row = page.locator('tr[data-message="later-1"]');
      await row.waitFor();
      expect(await row.locator('td').nth(2).textContent()).toBe('late');
      await row.locator('button.cancel').click();
      await page.locator('[role=status]', { hasText: 'Cancelled later-1.' }).waitFor();
      await row.waitFor({ state: 'detached' });
      await api.reaches('later-1', 'cancelled');
    }, 30_000);

    /** Clicks the page's Refresh until `done` holds (the lists load once, as a person reloads them). */
    const refreshUntil = (button: string, done: () => Promise<boolean>, what: string) =>
      eventually(
        async () => {
          if (await done()) return true;
          await page.click(button);
          return undefined;
        },
        40_000,
        what,
      );

    it('shows an open digest window with its events and due time, then what its flush sent', async () => {
      await api.createTemplate({
        code: 'ops_digest',
        name: 'Ops digest',
        variables: { n: 'number' },
        digest: { window: '6s' },
        channels: {
          im: { title: '{{ count }} alerts', body: '{% for e in events %}#{{ e.n }} {% endfor %}' },
        },
      });
      for (const n of [1, 2, 3])
        await api.post(
          '/v1/messages',
          { id: `dg-${n}`, template: 'ops_digest', to: [{ userId: 'u-digest' }], data: { n } },
          202,
        );
      for (const n of [1, 2, 3]) await api.reaches(`dg-${n}`, 'digested');
      await go('#/digests');
      const row = page.locator('tr[data-digest]', { hasText: 'u-digest' });
      await row.waitFor();
      expect(await row.locator('td.events').textContent()).toBe('3');
      expect((await row.locator('td.state').textContent())?.trim()).toBe('open');
      expect(await row.locator('td.outcome').textContent()).toContain('flushes');
      await row.locator('button.items').click();
      for (const n of [1, 2, 3]) await page.locator(`tr[data-collected="dg-${n}"]`).waitFor();
      // Filtered by another user: nothing.
      await page.fill('#dg-userId', 'u-nobody');
      await page.click('.filters button[type=submit]');
      await page.locator('.empty', { hasText: 'No digest windows match.' }).waitFor();
      await page.fill('#dg-userId', 'u-digest');
      await page.click('.filters button[type=submit]');
      await refreshUntil(
        '#dg-refresh',
        async () => (await row.locator('td.outcome').textContent())?.includes('completed') ?? false,
        'the digest flushed and sent',
      );
      expect((await row.locator('td.state').textContent())?.trim()).toBe('flushed');
      expect(await row.locator('td.outcome').textContent()).toContain('im sent');
    }, 60_000);

    it('shows a pending escalation with what it waits for and when, then escalated; and a fallback', async () => {
      sink.setBehaviour({
        rcpt: (a) => (a.startsWith('bounce@') ? { code: 550, message: '5.1.1 no such user' } : undefined),
      });
      await api.createTemplate({
        code: 'remind',
        name: 'Reminder',
        variables: {},
        escalate: { after: '4s', unless: 'read', channels: ['mail'] },
        channels: {
          im: { title: 'Please approve', body: 'An approval waits' },
          mail: { subject: 'Still waiting for your approval', html: '<p>Please approve</p>' },
        },
      });
      await api.createTemplate({
        code: 'alarm',
        name: 'Alarm',
        variables: {},
        fallback: ['im'],
        channels: {
          mail: { subject: 'Alarm', html: '<p>Alarm</p>' },
          im: { title: 'Alarm (mail failed)', body: 'Alarm' },
        },
      });
      await api.post(
        '/v1/messages',
        { id: 'rem-1', template: 'remind', to: [{ userId: 'u-rem', email: 'rem@example.com' }] },
        202,
      );
      await api.post(
        '/v1/messages',
        { id: 'alarm-1', template: 'alarm', to: [{ userId: 'u-alarm', email: 'bounce@example.com' }] },
        202,
      );
      await api.finished('rem-1');
      await go('#/escalations');
      const rem = page.locator('tr[data-escalation="rem-1"]');
      await rem.waitFor();
      expect(await rem.locator('td.rule').textContent()).toContain('im not read within 4s → mail');
      expect((await rem.locator('td.escalation-state').textContent())?.trim()).toBe('pending');
      expect((await rem.locator('td.due').textContent())?.trim()).not.toBe('—');
      await refreshUntil(
        '#es-refresh',
        async () => (await rem.locator('td.escalation-state').textContent())?.trim() === 'escalated',
        'the escalation ran',
      );
      await rem
        .locator('td.deliveries [data-channel="mail"]', { hasText: 'escalation: im not read within 4s' })
        .waitFor();
      await refreshUntil(
        '#es-refresh',
        async () =>
          (await page.locator('tr[data-escalation="alarm-1"] td.fallback-state').textContent())?.trim() ===
          'fallen_back',
        'the fallback was added',
      );
      const alarm = page.locator('tr[data-escalation="alarm-1"]');
      expect(await alarm.locator('td.rule').textContent()).toContain('a channel fails for good → im');
      await alarm
        .locator('td.deliveries [data-channel="im"]', { hasText: 'fallback: mail failed' })
        .waitFor();
      // Filtered by state: only the fallen back one.
      await page.selectOption('#es-state', 'fallen_back');
      await page.click('.filters button[type=submit]');
      await rem.waitFor({ state: 'detached' });
      await alarm.waitFor();
    }, 60_000);

    it('creates a status webhook and shows its attempts, a failed one with its HTTP status', async () => {
      const secret = 'console-webhook-secret-0123456789';
      const receiver = await startWebhookReceiver(secret);
      try {
        let first = true;
        receiver.answerWith(() => (first ? ((first = false), 503) : 200));
        await go('#/webhooks');
        await page.fill('#w-url', receiver.url);
        await page.fill('#w-secret', secret);
        await page.fill('#w-templates', 'late');
        await page.click('.webhook-form button[type=submit]');
        const row = page.locator('tr[data-webhook]', { hasText: receiver.url });
        await row.waitFor();
        await api.post(
          '/v1/messages',
          { id: 'hooked-1', template: 'late', to: [{ userId: 'u-hook' }], data: {} },
          202,
        );
        await api.reaches('hooked-1', 'completed');
        await eventually(async () => receiver.accepted().length > 0, 15_000, 'an accepted webhook delivery');
        await row.locator('button.attempts').click();
        await page.locator('.webhook-attempts tr.outcome-failed', { hasText: '503' }).waitFor();
        await page
          .locator('.webhook-attempts tr.outcome-delivered', { hasText: 'delivery.sent' })
          .first()
          .waitFor();
        expect(receiver.received.every((r) => r.signed)).toBe(true);
        expect(await page.content()).not.toContain(secret);
        await row.locator('button.toggle').click();
        await row.locator('td.state', { hasText: 'disabled' }).waitFor();
      } finally {
        await receiver.close();
      }
    }, 45_000);

    it('creates a scoped API key, shown once, that works until it is revoked', async () => {
      await go('#/keys');
      await page.fill('#k-name', 'orders-service');
      await page.click('form.toolbar button[type=submit]');
      const key = (await page.locator('#new-key').textContent())?.trim() ?? '';
      expect(key).toMatch(/^hk_/);
      const asKey = (path: string) =>
        fetch(`${h.baseUrl}${path}`, { headers: { authorization: `Bearer ${key}` } });
      expect((await asKey('/v1/messages?status=scheduled')).status).toBe(403); // publish only, not read
      const row = page.locator('tr[data-key]', { hasText: 'orders-service' });
      await row.locator('button.revoke').click();
      await row.locator('button.revoke-confirm').click();
      await row.locator('td.revoked', { hasNotText: 'no' }).waitFor();
      expect((await asKey('/v1/messages?status=scheduled')).status).toBe(401);
      expect(await page.locator('#new-key').count()).toBe(1); // until dismissed; never fetched again
      await page.click('.created button');
      expect(await page.content()).not.toContain(key);
    }, 30_000);

    it('shows the audit log of what the console changed, with who and the before and after', async () => {
      await go('#/audit');
      const created = page
        .locator('tr[data-audit]', { hasText: 'template.create' })
        .filter({ hasText: 'welcome' });
      await created.waitFor();
      expect(await created.textContent()).toContain('bootstrap:1'); // the first HERALD_ADMIN_TOKENS entry
      for (const action of [
        'template.update',
        'delivery.retry',
        'deadLetter.replay',
        'deadLetter.purge',
        'message.cancel',
        'apiKey.revoke',
      ])
        await page.locator('tr[data-audit]', { hasText: action }).first().waitFor();
      await page.locator('tr[data-audit]', { hasText: 'template.update' }).first().locator('button').click();
      await page.locator('tr.envelope .diff pre', { hasText: 'shipped today' }).first().waitFor();
      await page.selectOption('#au-type', 'apiKey');
      await page.click('.filters button[type=submit]');
      // The console made two templates, so two rows match: wait until the first (and with it the table) is gone.
      await page
        .locator('tr[data-audit]', { hasText: 'template.create' })
        .first()
        .waitFor({ state: 'detached' });
      expect(await page.locator('tr[data-audit]').count()).toBe(2); // the key's create and revoke
    }, 30_000);

    it('sends a test through a channel account and shows what came of it', async () => {
      const before = sink.messages.length;
      await go('#/accounts');
      const row = page.locator('tr[data-account="outbox"]');
      await row.locator('button.test').click();
      await page.fill('#t-email', 'test-to@example.com');
      await page.click('#t-send');
      await page.locator('.test-outcome.ok', { hasText: 'sent' }).waitFor({ timeout: 20_000 });
      const mails = await sink.waitForMessages(before + 1);
      expect(mails.at(-1)?.subject).toBe('Herald test message (outbox)');
      expect(mails.at(-1)?.envelope.to).toEqual(['test-to@example.com']);
      sink.replyNext('rcpt', { code: 550, message: '5.1.1 mailbox unavailable' });
      await page.click('#t-send');
      await page
        .locator('.test-outcome.error', { hasText: 'permanent' })
        .filter({ hasText: 'mailbox unavailable' })
        .waitFor({ timeout: 20_000 });
      expect(sink.messages.length).toBe(before + 1);
    }, 45_000);

    it('finds subscribers by email, edits one and their preferences, exports them, erases after a confirmation', async () => {
      await api.expectStatus(200, 'PUT', '/v1/subscribers/u-sub-1', {
        email: 'one@example.com',
        name: 'One',
      });
      await api.expectStatus(200, 'PUT', '/v1/subscribers/u-sub-2', {
        email: 'two@example.com',
        name: 'Two',
      });
      await go('#/subscribers');
      await page.locator('tr[data-subscriber="u-sub-1"]').waitFor();
      await page.locator('tr[data-subscriber="u-sub-2"]').waitFor();
      await page.fill('#sub-email', 'TWO@example.com');
      await page.click('.filters button[type=submit]');
      await page.locator('tr[data-subscriber="u-sub-1"]').waitFor({ state: 'detached' });
      expect(await page.locator('tr[data-subscriber]').count()).toBe(1);
      await page.click('tr[data-subscriber="u-sub-2"] a');
      await page.locator('h1', { hasText: 'Subscriber u-sub-2' }).waitFor();
      const json = page.locator('#sub-json');
      await json.fill(
        JSON.stringify({ email: 'two@example.com', name: 'Second', timezone: 'Asia/Shanghai' }),
      );
      await page.click('#sub-save');
      await page.locator('[role=status]', { hasText: 'Saved.' }).waitFor();
      expect(await api.expectStatus(200, 'GET', '/v1/subscribers/u-sub-2')).toMatchObject({
        name: 'Second',
        timezone: 'Asia/Shanghai',
      });

      const box = (category: string, channel: string) =>
        page.locator(`.preferences input[data-category="${category}"][data-channel="${channel}"]`);
      await box('', 'mail').uncheck();
      await page.fill('#p-new-category', 'billing');
      await page.click('#p-add-category');
      await box('billing', '').uncheck();
      await box('billing', 'im').uncheck();
      await page.click('#p-save');
      await page.locator('[role=status]', { hasText: 'Preferences saved.' }).waitFor();
      expect(await api.expectStatus(200, 'GET', '/v1/subscribers/u-sub-2/preferences')).toEqual({
        channels: { mail: false },
        categories: { billing: { enabled: false, channels: { im: false } } },
      });
      await box('billing', '').check();
      await page.click('#p-save');
      await page.locator('[role=status]', { hasText: 'Preferences saved.' }).waitFor();
      await eventually(
        async () =>
          JSON.stringify(await api.expectStatus(200, 'GET', '/v1/subscribers/u-sub-2/preferences')) ===
          JSON.stringify({ channels: { mail: false }, categories: { billing: { channels: { im: false } } } }),
        10_000,
        'billing switched back on, im in billing still off',
      );

      const [download] = await Promise.all([page.waitForEvent('download'), page.click('#sub-export')]);
      expect(download.suggestedFilename()).toBe('herald-subscriber-u-sub-2.json');
      const exported = JSON.parse(fs.readFileSync(await download.path(), 'utf8')) as {
        userId: string;
        subscriber: { name: string; email: string };
      };
      expect(exported.userId).toBe('u-sub-2');
      expect(exported.subscriber).toMatchObject({ name: 'Second', email: 'two@example.com' });

      await page.click('#sub-erase');
      expect((await api.call('GET', '/v1/subscribers/u-sub-2')).status).toBe(200); // not before the confirmation
      await page.click('#sub-erase-confirm');
      await page.locator('[role=status]', { hasText: 'Erased everywhere' }).waitFor();
      await page.locator('pre.erasure', { hasText: '"subscriber": true' }).waitFor();
      expect((await api.call('GET', '/v1/subscribers/u-sub-2')).status).toBe(404);
      expect((await api.call('GET', '/v1/subscribers/u-sub-1')).status).toBe(200);
    }, 60_000);

    it('creates a topic, adds members and removes one after a confirmation', async () => {
      await go('#/topics');
      await page.fill('#tp-key', 'ops-oncall');
      await page.fill('#tp-name', 'On call');
      await page.click('form.toolbar button[type=submit]');
      await page.locator('tr[data-topic="ops-oncall"] td.members', { hasText: '0' }).waitFor();
      await page.click('tr[data-topic="ops-oncall"] a');
      await page.locator('h1', { hasText: 'Topic ops-oncall' }).waitFor();
      await page.fill('#tp-add', 'u-sub-1, u-oncall-2 u-oncall-3');
      await page.click('form.toolbar button[type=submit]');
      await page.locator('[role=status]', { hasText: '3 added.' }).waitFor();
      expect(await page.locator('tr[data-member]').count()).toBe(3);
      const row = page.locator('tr[data-member="u-oncall-2"]');
      await row.locator('button.remove').click();
      expect(await api.expectStatus(200, 'GET', '/v1/topics/ops-oncall')).toMatchObject({ members: 3 });
      await row.locator('button.remove-confirm').click();
      await page.locator('[role=status]', { hasText: '1 removed.' }).waitFor();
      await row.waitFor({ state: 'detached' });
      expect(await api.expectStatus(200, 'GET', '/v1/topics/ops-oncall')).toMatchObject({ members: 2 });
      await page.locator('#tp-title', { hasText: '2 members' }).waitFor();
      await go('#/topics');
      await page.locator('tr[data-topic="ops-oncall"] td.members', { hasText: '2' }).waitFor();
    }, 30_000);

    it('declares an inbox tab with a filter and deletes it after a confirmation', async () => {
      await go('#/inbox-tabs');
      await page.locator('.empty', { hasText: 'No tabs are declared' }).waitFor();
      await page.fill('#tab-name', 'billing');
      await page.fill('#tab-category', 'billing');
      await page.check('#tab-sev-high');
      await page.click('form.toolbar button[type=submit]');
      await page
        .locator('tr[data-tab="billing"] td.filter', { hasText: 'category billing; severity high' })
        .waitFor();
      expect(await api.expectStatus(200, 'GET', '/v1/inbox/tabs')).toEqual({
        items: [{ name: 'billing', filter: { category: 'billing', severity: ['high'] } }],
      });
      await page.click('tr[data-tab="billing"] button.delete');
      await page.click('tr[data-tab="billing"] button.delete-confirm');
      await page.locator('[role=status]', { hasText: 'Deleted billing.' }).waitFor();
      expect(await api.expectStatus(200, 'GET', '/v1/inbox/tabs')).toEqual({ items: [] });
    }, 30_000);

    it('charts health from /v1/stats after traffic, with non-zero bars', async () => {
      await go('#/health');
      await page.locator('#chart-per-minute rect.bar').first().waitFor();
      const values = await page
        .locator('#chart-per-minute rect.bar')
        .evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-value'))));
      expect(values.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(3); // mail, im, late's im
      expect(Number(await page.locator('#h-total').textContent())).toBeGreaterThanOrEqual(3);
      const channels = await page
        .locator('#chart-by-channel text')
        .evaluateAll((els) => els.map((e) => e.textContent));
      expect(channels).toEqual(expect.arrayContaining(['im', 'mail']));
      expect(await page.locator('#chart-queues rect.bar').count()).toBeGreaterThan(0);
    }, 30_000);

    it('archives the template after a confirmation, and no page broke the CSP', async () => {
      await go('#/templates/welcome');
      await page.click('#archive');
      await page.click('#archive-confirm');
      await page.locator('.meta', { hasText: 'archived' }).waitFor();
      expect(problems).toEqual([]);
    }, 30_000);
  });
});
