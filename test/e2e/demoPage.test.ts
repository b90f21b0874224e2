import type { Browser, Page } from 'playwright-core';
import { signUserToken } from '../../src/auth/userToken';
import { describeWith } from '../support/services';
import {
  createTestDeployment,
  eventually,
  JWT_SECRET,
  type TestDeployment,
  type TestHerald,
} from '../support/testHerald';
import { launchChromium, describeWithBrowser } from './support/headlessChromium';
import { heraldApi } from '../support/heraldApi';

const USER = 'u-demo';
const SCREENSHOT = '/tmp/herald-demo-inbox.png';

interface InboxPage {
  items: Array<{ id: string; title: string; readAt: string | null }>;
  unread: number;
}

describeWithBrowser('e2e: the demo inbox page in headless Chromium', () => {
  describeWith(['postgres', 'rabbitmq'], 'on a running Herald', () => {
    let dep: TestDeployment;
    let h: TestHerald;
    let browser: Browser;
    let page: Page;
    let api: ReturnType<typeof heraldApi>;
    const pageErrors: string[] = [];

    const publish = (id: string, orderNo: string) =>
      api.post(
        '/v1/messages',
        { id, template: 'order_update', to: [{ userId: USER }], data: { orderNo } },
        202,
      );
    const badge = () => page.locator('#badge');
    const item = (title: string) => page.locator('#items li', { hasText: title });

    beforeAll(async () => {
      dep = createTestDeployment();
      h = await dep.start();
      api = heraldApi(h.baseUrl);
      await api.post(
        '/v1/templates',
        {
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
        },
        201,
      );
      browser = await launchChromium();
      page = await browser.newPage();
      page.on('pageerror', (err) => pageErrors.push(err.message));
    }, 90_000);

    afterAll(async () => {
      await browser?.close();
      await dep?.destroy();
    }, 60_000);

    it('shows a message published after it connected, and marks it read on click', async () => {
      // One item waits in the inbox before the page connects: it must come with `hello`.
      await publish('demo-1', '980');
      await api.finished('demo-1');

      await page.goto(`${h.baseUrl}/demo/inbox`);
      let sockets = 0;
      page.on('websocket', () => (sockets += 1));

      // A token signed with another secret is refused before the upgrade; the page says so and stops.
      await page.fill('#token', signUserToken('some-other-secret-0123456789abcdef', USER));
      await page.click('#connect button[type=submit]');
      await page.locator('#status', { hasText: 'could not connect' }).waitFor({ timeout: 15_000 });
      await page.waitForTimeout(2500); // longer than the page's reconnect delay
      expect(sockets).toBe(1);
      expect(await page.locator('#items li').count()).toBe(0);

      await page.fill('#token', signUserToken(JWT_SECRET, USER));
      await page.click('#connect button[type=submit]');
      await page.locator('#status', { hasText: `connected as ${USER}` }).waitFor({ timeout: 15_000 });
      await item('Order 980 shipped').waitFor();
      expect(await badge().textContent()).toBe('1');

      await publish('demo-2', '981');
      const fresh = item('Order 981 shipped');
      await fresh.waitFor({ timeout: 15_000 });
      await page.locator('#badge', { hasText: '2' }).waitFor();
      expect(await fresh.getAttribute('class')).toBe('unread');
      // Newest first: the pushed item sits above the one from `hello`.
      expect(await page.locator('#items li .title').allTextContents()).toEqual([
        'Order 981 shipped',
        'Order 980 shipped',
      ]);
      // The push reached a live socket, so the delivery says so.
      await eventually(
        async () => {
          const m = await api.finished('demo-2');
          return m.deliveries[0]?.status === 'delivered';
        },
        10_000,
        'the IM delivery to become delivered',
      );
      await page.screenshot({ path: SCREENSHOT, fullPage: true });

      await fresh.locator('.title').click();
      await page.locator('#badge', { hasText: '1' }).waitFor({ timeout: 10_000 });
      expect(await fresh.getAttribute('class')).toBe('read');
      expect(await item('Order 980 shipped').getAttribute('class')).toBe('unread');

      const inbox = (await api.call('GET', `/v1/users/${USER}/inbox`)).body as InboxPage;
      expect(inbox.unread).toBe(1);
      expect(inbox.items.map((i) => [i.title, i.readAt !== null])).toEqual([
        ['Order 981 shipped', true],
        ['Order 980 shipped', false],
      ]);
      await eventually(
        async () => {
          const m = await api.finished('demo-2');
          return m.deliveries[0]?.status === 'read';
        },
        10_000,
        'the IM delivery to become read',
      );
      await page.screenshot({ path: SCREENSHOT.replace('.png', '-read.png'), fullPage: true });
      expect(pageErrors).toEqual([]);
    }, 90_000);
  });
});
