/**
 * `npm run screenshots`: the README's pictures of the console and the inbox component, taken in Debian's
 * Chromium (HERALD_CHROMIUM elsewhere) from an embedded Herald started here on a temporary home with
 * sample traffic, so they can be made again after a change. Writes docs/screenshots/*.png.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { chromium } from 'playwright-core';
import { buildApp } from '../src/app';
import { signUserToken } from '../src/auth/userToken';
import { loadConfig } from '../src/config/loadConfig';
import { startRuntime } from '../src/runtime';
import { buildWeb } from './build-web';

const OUT = path.join(__dirname, '..', 'docs', 'screenshots');
const ADMIN = 'screenshots-admin-token-0123456789abcdef';
const JWT = 'screenshots-jwt-secret-0123456789abcdef012345';

/**
 * A night of quiet hours in Shanghai time that does not hold now: fixed ones deferred every sample
 * message (and so emptied the inbox pictures) whenever the script ran during them.
 */
function quietHoursAwayFromNow(): { from: string; to: string } {
  const shanghaiHour = (new Date().getUTCHours() + 8) % 24;
  const from = (shanghaiHour + 12) % 24;
  const pad = (h: number) => `${String(h).padStart(2, '0')}:00`;
  return { from: pad(from), to: pad((from + 9) % 24) };
}

async function main(): Promise<void> {
  await buildWeb({ quiet: true });
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-shots-'));
  const config = loadConfig({
    HERALD_HOME: home,
    HERALD_ADMIN_TOKENS: ADMIN,
    HERALD_JWT_SECRET: JWT,
    LOG_LEVEL: 'silent',
  });
  const runtime = await startRuntime(config, pino({ level: 'silent' }));
  const app = await buildApp(runtime.ctx);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  const base = `http://127.0.0.1:${address.port}`;
  const call = async (method: string, url: string, body?: unknown) => {
    const res = await fetch(base + url, {
      method,
      headers: { authorization: `Bearer ${ADMIN}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    if (!res.ok) throw new Error(`${method} ${url}: ${res.status} ${await res.text()}`);
    return (await res.json()) as Record<string, unknown>;
  };
  const browser = await chromium.launch({
    executablePath: process.env.HERALD_CHROMIUM ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu'],
  });
  try {
    await call('POST', '/v1/templates', {
      code: 'order_shipped',
      name: 'Order shipped',
      variables: { orderNo: 'string', eta: 'date' },
      channels: {
        mail: {
          subject: 'Order {{ orderNo }} shipped',
          html: '<p>Hello {{ name }}, it arrives {{ eta }}.</p>',
        },
        im: { title: 'Order {{ orderNo }} shipped', body: 'Arrives {{ eta }}', url: '/orders/{{ orderNo }}' },
      },
    });
    await call('PUT', '/v1/subscribers/u-17', {
      email: 'li@example.com',
      name: 'Li',
      locale: 'zh-CN',
      timezone: 'Asia/Shanghai',
      quietHours: quietHoursAwayFromNow(),
    });
    await call('PUT', '/v1/subscribers/u-17/preferences', {
      channels: { dingtalk: false },
      categories: { marketing: { enabled: false }, billing: { channels: { mail: false } } },
    });
    for (const n of [981, 982, 983, 984])
      await call('POST', '/v1/messages', {
        id: `order-${n}-shipped`,
        template: 'order_shipped',
        to: [{ userId: 'u-17', email: 'li@example.com', name: 'Li' }],
        data: { orderNo: String(n), eta: '2026-11-25' },
      });
    // A digest collecting for two people, and a reminder that escalates to mail if it is not read.
    await call('POST', '/v1/templates', {
      code: 'build_failed',
      name: 'Build failed',
      variables: { project: 'string', n: 'number' },
      digest: { window: '1h', key: 'project' },
      channels: {
        im: { title: '{{ count }} builds failed', body: '{% for e in events %}#{{ e.n }} {% endfor %}' },
      },
    });
    for (const [i, userId] of ['u-17', 'u-17', 'u-17', 'u-18', 'u-17'].entries())
      await call('POST', '/v1/messages', {
        id: `build-${i}`,
        template: 'build_failed',
        to: [{ userId }],
        data: { project: i === 4 ? 'api' : 'web', n: 100 + i },
      });
    await call('POST', '/v1/templates', {
      code: 'invoice_due',
      name: 'Invoice due',
      variables: { no: 'string' },
      escalate: { after: '30m', unless: 'read', channels: ['mail'] },
      channels: {
        im: { title: 'Invoice {{ no }} is due', body: 'Please pay' },
        mail: { subject: 'Invoice {{ no }} is still unpaid', html: '<p>Please pay {{ no }}</p>' },
      },
    });
    for (const no of ['2026-114', '2026-115'])
      await call('POST', '/v1/messages', {
        id: `invoice-${no}`,
        template: 'invoice_due',
        to: [{ userId: 'u-17', email: 'li@example.com' }],
        data: { no },
      });
    for (let i = 0; i < 100; i += 1) {
      const m = await call('GET', '/v1/messages/order-984-shipped');
      if (m.status === 'completed') break;
      await new Promise((r) => setTimeout(r, 200));
    }
    fs.mkdirSync(OUT, { recursive: true });
    const page = await browser.newPage({ viewport: { width: 1280, height: 820 } });
    await page.goto(`${base}/console`);
    await page.fill('#admin-token', ADMIN);
    await page.click('.signin button[type=submit]');
    await page.locator('table tbody tr').first().waitFor();
    await page.screenshot({ path: path.join(OUT, 'console-templates.png') });
    await page.evaluate('location.hash = "#/templates/order_shipped"');
    await page.fill('#s-data', '{"orderNo": "981", "eta": "2026-11-25"}');
    await page.locator('#s-data').press('End');
    await page.locator('#s-data').pressSequentially(' ');
    await page.locator('.r-subject').waitFor();
    await page.screenshot({ path: path.join(OUT, 'console-template-editor.png'), fullPage: true });
    await page.evaluate('location.hash = "#/messages/order-981-shipped"');
    await page.locator('.delivery').first().waitFor();
    await page.screenshot({ path: path.join(OUT, 'console-message.png') });
    await page.evaluate('location.hash = "#/health"');
    await page.locator('#chart-per-minute rect.bar').first().waitFor();
    await page.screenshot({ path: path.join(OUT, 'console-health.png') });
    await page.evaluate('location.hash = "#/digests"');
    await page.locator('tr[data-digest]').nth(2).waitFor();
    await page
      .locator('tr[data-digest]', { hasText: 'web' })
      .filter({ hasText: 'u-17' })
      .locator('button.items')
      .click();
    await page.locator('tr[data-collected]').nth(2).waitFor();
    await page.screenshot({ path: path.join(OUT, 'console-digests.png') });
    await page.evaluate('location.hash = "#/escalations"');
    await page.locator('tr[data-escalation]').nth(1).waitFor();
    await page.screenshot({ path: path.join(OUT, 'console-escalations.png') });
    await page.evaluate('location.hash = "#/subscribers/u-17"');
    await page.locator('.preferences input').first().waitFor();
    await page.screenshot({ path: path.join(OUT, 'console-subscriber.png'), fullPage: true });

    const demo = await browser.newPage({ viewport: { width: 900, height: 640 } });
    await demo.goto(`${base}/demo/inbox`);
    await demo.fill('#token', signUserToken(JWT, 'u-17'));
    await demo.click('#connect button[type=submit]');
    await demo.locator('#list li').nth(3).waitFor();
    await demo.locator('#list li').nth(3).click();
    await demo.locator('#bell .bell').click();
    await demo.locator('#bell li').first().waitFor();
    await demo.screenshot({ path: path.join(OUT, 'inbox-component.png') });
    await demo.evaluate(`document.querySelector('#bell').setAttribute('categories', 'billing, marketing')`);
    await demo.locator('#bell [part=preferences-toggle]').click();
    await demo.locator('#bell [part=preferences] input').first().waitFor();
    await demo.screenshot({ path: path.join(OUT, 'inbox-preferences.png') });
    console.log(`screenshots written to ${path.relative(process.cwd(), OUT)}/`);
  } finally {
    await browser.close();
    await runtime.drain();
    await app.close();
    await runtime.close();
    fs.rmSync(home, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
