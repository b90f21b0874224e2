import type { Browser, BrowserContext, Page } from 'playwright-core';
import { signUserToken } from '../../src/auth/userToken';
import { startTcpProxy, type TcpProxy } from '../support/tcpProxy';
import { heraldApi } from '../support/heraldApi';
import { describeWith } from '../support/services';
import {
  createTestDeployment,
  eventually,
  JWT_SECRET,
  type TestDeployment,
  type TestHerald,
} from '../support/testHerald';
import { describeWithBrowser, launchChromium } from './support/headlessChromium';

const USER = 'u-demo';

describeWithBrowser('e2e: <herald-inbox> on the demo page in headless Chromium', () => {
  describeWith(['postgres', 'rabbitmq'], 'on a running Herald', () => {
    let dep: TestDeployment;
    let h: TestHerald;
    let browser: Browser;
    let context: BrowserContext;
    let proxy: TcpProxy;
    let api: ReturnType<typeof heraldApi>;
    const problems: string[] = [];

    const publish = (id: string, orderNo: string, userId = USER) =>
      api.post('/v1/messages', { id, template: 'order_update', to: [{ userId }], data: { orderNo } }, 202);

    async function openTab(origin: string, token: string, lang = 'en'): Promise<Page> {
      const page = await context.newPage();
      page.on('pageerror', (err) => problems.push(err.message));
      page.on('console', (m) => {
        if (m.type() === 'error' && !/Failed to load resource|WebSocket connection/.test(m.text()))
          problems.push(m.text());
      });
      await page.goto(`${origin}/demo/inbox`);
      await page.fill('#token', token);
      await page.selectOption('#lang', lang);
      await page.click('#connect button[type=submit]');
      return page;
    }
    const items = (page: Page, title: string) => page.locator('#list li', { hasText: title });
    const badge = (page: Page) => page.locator('#bell .badge');

    beforeAll(async () => {
      dep = createTestDeployment();
      h = await dep.start();
      api = heraldApi(h.baseUrl);
      await api.createTemplate({
        code: 'order_update',
        name: 'Order update',
        variables: { orderNo: 'string' },
        channels: {
          im: {
            title: 'Order {{ orderNo }} shipped',
            body: 'It is on its way',
            url: '/orders/{{ orderNo }}',
          },
        },
      });
      proxy = await startTcpProxy({ host: '127.0.0.1', port: Number(new URL(h.baseUrl).port) });
      browser = await launchChromium();
      context = await browser.newContext();
    }, 90_000);

    afterAll(async () => {
      await browser?.close();
      await proxy?.close();
      await dep?.destroy();
    }, 60_000);

    it('says so when the token is refused, and shows the empty state in Chinese', async () => {
      const refused = await openTab(h.baseUrl, signUserToken('some-other-secret-0123456789abcdef', USER));
      await refused
        .locator('#list [role=alert]', { hasText: 'could not be verified' })
        .waitFor({ timeout: 15_000 });
      expect(await refused.locator('#list li').count()).toBe(0);
      await refused.close();

      const empty = await openTab(h.baseUrl, signUserToken(JWT_SECRET, 'u-nobody'), 'zh-CN');
      await empty.locator('#list .empty', { hasText: '暂无通知' }).waitFor({ timeout: 15_000 });
      expect(await empty.locator('#bell').getAttribute('lang')).toBe('zh-CN');
      await empty.close();
    }, 60_000);

    it('two tabs of one user: an item pushed while one is offline shows once in both; a read clears both', async () => {
      await publish('demo-1', '980');
      await api.finished('demo-1');
      const token = signUserToken(JWT_SECRET, USER);
      const a = await openTab(h.baseUrl, token);
      const b = await openTab(`http://127.0.0.1:${proxy.port}`, token);
      for (const tab of [a, b]) {
        await items(tab, 'Order 980 shipped').waitFor({ timeout: 15_000 });
        await badge(tab).filter({ hasText: '1' }).waitFor();
      }

      await proxy.down(); // tab b loses its network
      await b.locator('#list [role=status]', { hasText: 'reconnecting' }).waitFor({ timeout: 15_000 });
      await publish('demo-2', '981');
      await items(a, 'Order 981 shipped').waitFor({ timeout: 15_000 });
      await badge(a).filter({ hasText: '2' }).waitFor();
      await api.finished('demo-2');
      expect(await items(b, 'Order 981 shipped').count()).toBe(0);

      await proxy.up();
      await items(b, 'Order 981 shipped').waitFor({ timeout: 30_000 });
      await badge(b).filter({ hasText: '2' }).waitFor();
      await b.waitForTimeout(500); // time for a duplicate to show, if one came
      for (const tab of [a, b]) {
        expect(await items(tab, 'Order 981 shipped').count()).toBe(1);
        expect(await items(tab, 'Order 980 shipped').count()).toBe(1);
        // Newest first.
        expect(await tab.locator('#list li .title').allTextContents()).toEqual([
          'Order 981 shipped',
          'Order 980 shipped',
        ]);
      }

      await items(a, 'Order 981 shipped').click(); // read in tab a
      await badge(b).filter({ hasText: '1' }).waitFor({ timeout: 10_000 });
      await items(b, 'Order 981 shipped').and(b.locator('li.read')).waitFor({ timeout: 10_000 });
      expect(await items(b, 'Order 980 shipped').getAttribute('class')).toMatch(/^unread\b/);

      await b.locator('#list [part=mark-all]').click(); // all read in tab b
      await a.locator('#bell .badge').waitFor({ state: 'detached', timeout: 10_000 });
      expect(await a.locator('#list li.unread').count()).toBe(0);

      const inbox = (await api.call<{ unread: number }>('GET', `/v1/users/${USER}/inbox`)).body;
      expect(inbox.unread).toBe(0);
      expect(problems).toEqual([]);
    }, 120_000);

    it('marks shown items seen, and an action, an archive and a snooze in one tab show in the other', async () => {
      await api.createTemplate({
        code: 'approval',
        name: 'Approval',
        variables: { n: 'string' },
        channels: {
          im: {
            title: 'Approve {{ n }}',
            body: 'please',
            severity: 'high',
            actions: {
              primary: { label: 'Approve', key: 'approve' },
              secondary: { label: 'Later', key: 'later' },
            },
          },
        },
      });
      await api.expectStatus(200, 'PUT', '/v1/inbox/tabs/urgent', {
        filter: { severity: ['high', 'critical'] },
      });
      const user = 'u-states';
      for (const n of ['1', '2', '3'])
        await api.post(
          '/v1/messages',
          { id: `approve-${n}`, template: 'approval', to: [{ userId: user }], data: { n } },
          202,
        );
      for (const n of ['1', '2', '3']) await api.finished(`approve-${n}`);
      const token = signUserToken(JWT_SECRET, user);
      const a = await openTab(h.baseUrl, token);
      const b = await openTab(h.baseUrl, token);
      for (const tab of [a, b]) await items(tab, 'Approve 3').waitFor({ timeout: 15_000 });
      // Shown in an inline list: seen, counted by the server, though still unread.
      await eventually(
        async () => {
          const c = (
            await api.call<{ counts: { unseen: number; unread: number } }>(
              'GET',
              `/v1/users/${user}/inbox/counts`,
            )
          ).body.counts;
          return c.unseen === 0 && c.unread === 3;
        },
        10_000,
        'the items seen and still unread',
      );
      expect(await items(b, 'Approve 1').getAttribute('class')).toContain('severity-high');
      // The declared tab, with its count from the server, lists its items when chosen.
      await b.locator('#list [data-tab=urgent]', { hasText: '3' }).click();
      await items(b, 'Approve 1').waitFor();
      expect(await b.locator('#list li').count()).toBe(3);
      await b.locator('#list .tab', { hasText: 'All' }).click();

      await items(a, 'Approve 1').locator('[part=action-primary]').click();
      await items(b, 'Approve 1')
        .locator('[part=actioned]', { hasText: 'approve' })
        .waitFor({ timeout: 10_000 });
      await badge(b).filter({ hasText: '2' }).waitFor(); // taking the action read it

      await items(a, 'Approve 2').locator('[part=archive]').click();
      await items(b, 'Approve 2').waitFor({ state: 'detached', timeout: 10_000 });
      await items(a, 'Approve 3').locator('[part=snooze]').click();
      await items(b, 'Approve 3').waitFor({ state: 'detached', timeout: 10_000 });
      await b.locator('#bell .badge').waitFor({ state: 'detached', timeout: 10_000 });
      expect(await b.locator('#list li .title').allTextContents()).toEqual(['Approve 1']);
      const states = (
        await api.call<{
          items: Array<{
            title: string;
            archivedAt: string | null;
            snoozedUntil: string | null;
            action: string | null;
          }>;
        }>('GET', `/v1/users/${user}/inbox?status=any`)
      ).body.items;
      const by = (t: string) => states.find((i) => i.title === t);
      expect(by('Approve 1')?.action).toBe('approve');
      expect(by('Approve 2')?.archivedAt).not.toBeNull();
      expect(by('Approve 3')?.snoozedUntil).not.toBeNull();
      expect(problems).toEqual([]);
    }, 90_000);

    it('counts unseen on the bell when asked, and the user turns channels and categories off in the preferences panel', async () => {
      const user = 'u-prefs';
      await api.createTemplate({
        code: 'invoice',
        name: 'Invoice',
        category: 'billing',
        variables: { n: 'string' },
        channels: { im: { title: 'Invoice {{ n }}', body: 'due' } },
      });
      const page = await context.newPage();
      page.on('pageerror', (err) => problems.push(err.message));
      await page.goto(`${h.baseUrl}/demo/inbox`);
      // Only the bell, counting unseen: no inline list marks items seen.
      await page.evaluate(`
        document.querySelector('#list').remove();
        document.querySelector('#bell').setAttribute('badge', 'unseen');
        document.querySelector('#bell').setAttribute('categories', 'billing, security');
      `);
      await page.fill('#token', signUserToken(JWT_SECRET, user));
      await page.click('#connect button[type=submit]');
      await api.post(
        '/v1/messages',
        { id: 'invoice-1', template: 'invoice', to: [{ userId: user }], data: { n: '1' } },
        202,
      );
      await badge(page).filter({ hasText: '1' }).waitFor({ timeout: 15_000 });
      expect(await page.locator('#bell [part=bell]').getAttribute('aria-label')).toBe('Notifications, 1 new');

      // Opening the bell shows the item: it is seen (the badge goes) and still unread.
      await page.click('#bell [part=bell]');
      await page.locator('#bell li.unread', { hasText: 'Invoice 1' }).waitFor();
      await badge(page).waitFor({ state: 'detached', timeout: 10_000 });
      const counts = (
        await api.call<{ counts: { unseen: number; unread: number } }>(
          'GET',
          `/v1/users/${user}/inbox/counts`,
        )
      ).body.counts;
      expect(counts).toMatchObject({ unseen: 0, unread: 1 });

      await page.click('#bell [part=preferences-toggle]');
      const box = (attr: string, value: string) =>
        page.locator(`#bell [part=preferences] input[data-${attr}="${value}"]`);
      await box('channel', 'im').waitFor();
      expect(await page.locator('#bell [part=preferences] label').allTextContents()).toEqual([
        'In-app',
        'Email',
        'billing',
        'security',
      ]);
      await box('channel', 'mail').uncheck();
      await page.locator('#bell [part=preferences] [role=status]', { hasText: 'Saved' }).waitFor();
      await box('category', 'billing').uncheck();
      const stored = () => api.expectStatus(200, 'GET', `/v1/subscribers/${user}/preferences`);
      await eventually(
        async () =>
          JSON.stringify(await stored()) ===
          JSON.stringify({ channels: { mail: false }, categories: { billing: { enabled: false } } }),
        10_000,
        'mail and billing switched off',
      );
      // Herald honours it: the next invoice is not sent to this user's inbox.
      await api.post(
        '/v1/messages',
        { id: 'invoice-2', template: 'invoice', to: [{ userId: user }], data: { n: '2' } },
        202,
      );
      const sent = await api.finished('invoice-2');
      expect(sent.deliveries.map((d) => [d.status, d.reason])).toEqual([['skipped', 'preference']]);

      await box('channel', 'mail').check();
      await eventually(
        async () =>
          JSON.stringify(await stored()) ===
          JSON.stringify({ channels: {}, categories: { billing: { enabled: false } } }),
        10_000,
        'mail switched back on',
      );
      // A reload shows the stored switches, in Chinese with lang="zh-CN".
      await page.click('#bell [part=preferences-back]');
      await page.evaluate(`document.querySelector('#bell').setAttribute('lang', 'zh-CN')`);
      await page.locator('#bell [part=preferences-toggle]', { hasText: '通知设置' }).click();
      await page.locator('#bell [part=preferences] label', { hasText: '站内信' }).waitFor();
      expect(await box('channel', 'mail').isChecked()).toBe(true);
      expect(await box('category', 'billing').isChecked()).toBe(false);
      expect(await box('category', 'security').isChecked()).toBe(true);
      expect(problems).toEqual([]);
    }, 90_000);
  });
});
