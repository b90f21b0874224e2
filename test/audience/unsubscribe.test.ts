import { startSmtpSink, type ReceivedMail, type SmtpSink } from '../senders/support/smtpSink';
import { heraldApi, type HeraldApi } from '../support/heraldApi';
import { describeWith } from '../support/services';
import { createTestDeployment, type TestDeployment, type TestHerald } from '../support/testHerald';
import { PREFERENCES_PAGE_CSP } from '../../src/web/preferencesPage';

/** Where the links point: not this Herald's ephemeral port, so the test also shows the setting is used. */
const PUBLIC_URL = 'https://herald.example.test';

const mailTemplate = (code: string, extra: Record<string, unknown>) => ({
  code,
  name: code,
  variables: { no: 'string' },
  ...extra,
  channels: { mail: { account: 'sink', subject: `${code} {{ no }}`, html: '<p>{{ no }}</p>' } },
});

/** The headers as sent, unfolded. */
function header(mail: ReceivedMail, name: string): string | undefined {
  const head = mail.raw.slice(0, mail.raw.search(/\r?\n\r?\n/)).replace(/\r?\n[ \t]+/g, ' ');
  const line = head.split(/\r?\n/).find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`));
  return line?.slice(name.length + 1).trim();
}

interface DeliveryRow {
  status: string;
  reason: string | null;
}

describeWith(
  ['postgres', 'rabbitmq'],
  'mail that mailbox providers accept: one-click unsubscribe and suppressions',
  () => {
    let dep: TestDeployment;
    let h: TestHerald;
    let api: HeraldApi;
    let sink: SmtpSink;

    beforeAll(async () => {
      sink = await startSmtpSink();
      sink.setBehaviour({
        rcpt: (address) =>
          ['ghost@example.com', 'gone@example.net'].includes(address.toLowerCase())
            ? { code: 550, message: `5.1.1 <${address}>: Recipient address rejected: User unknown` }
            : address === 'policy@example.com'
              ? { code: 550, message: '5.7.1 Message rejected as spam' }
              : undefined,
      });
      dep = createTestDeployment({ HERALD_PUBLIC_URL: PUBLIC_URL });
      h = await dep.start();
      api = heraldApi(h.baseUrl);
      await api.createSmtpAccount('sink', sink.port);
      await api.createTemplate(mailTemplate('weekly_news', { category: 'news' }));
      await api.createTemplate(mailTemplate('plain_note', {}));
      await api.createTemplate(mailTemplate('login_code', { category: 'security', critical: true }));
      await api.expectStatus(200, 'PUT', '/v1/subscribers/u-li', { email: 'li@example.com', name: 'Li' });
    }, 90_000);

    afterAll(async () => {
      await dep?.destroy();
      await sink?.close();
    }, 60_000);

    const mailDelivery = async (messageId: string) =>
      (
        await h.runtime.ctx.db.sql.query<DeliveryRow>(
          `SELECT status::text, reason FROM "Delivery" WHERE "messageId" = $1 AND channel = 'mail'`,
          [messageId],
        )
      ).rows[0];

    /** Publishes, waits until finished, and returns the mail that arrived for it (if one did). */
    async function send(id: string, template: string, to: Record<string, string>) {
      const before = sink.messages.length;
      await api.post('/v1/messages', { id, template, to: [to], data: { no: id } }, 202);
      await api.finished(id);
      return sink.messages.slice(before).find((m) => m.subject === `${template} ${id}`);
    }

    /** The link's path and query on this Herald (the mail names PUBLIC_URL). */
    function linkOf(mail: ReceivedMail | undefined): string {
      const value = mail && header(mail, 'List-Unsubscribe');
      const url = /^<([^>]+)>$/.exec(value ?? '')?.[1];
      if (!url) throw new Error(`no List-Unsubscribe link in ${value}`);
      expect(url.startsWith(`${PUBLIC_URL}/unsubscribe?token=`)).toBe(true);
      return url.slice(PUBLIC_URL.length);
    }

    const oneClick = (
      path: string,
      body = 'List-Unsubscribe=One-Click',
      type = 'application/x-www-form-urlencoded',
    ) => fetch(`${h.baseUrl}${path}`, { method: 'POST', headers: { 'content-type': type }, body });

    it('puts a signed one-click link on a non-critical mail; POSTing it turns the category off, and the next such mail is skipped with preference', async () => {
      const mail = await send('news-1', 'weekly_news', { userId: 'u-li' });
      expect(header(mail as ReceivedMail, 'List-Unsubscribe-Post')).toBe('List-Unsubscribe=One-Click');
      const link = linkOf(mail);

      // A GET (a person's click, a mail scanner's prefetch) shows the page and changes nothing.
      const page = await fetch(`${h.baseUrl}${link}`);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-security-policy')).toBe(PREFERENCES_PAGE_CSP);
      expect(page.headers.get('referrer-policy')).toBe('no-referrer');
      const html = await page.text();
      expect(html).toContain('Unsubscribe from “news” by Email');
      expect(html).not.toMatch(/<script/i);
      expect(await api.expectStatus(200, 'GET', '/v1/subscribers/u-li/preferences')).toEqual({
        channels: {},
        categories: {},
      });

      const res = await oneClick(link);
      expect(res.status).toBe(200);
      expect(await res.text()).toContain('You will no longer get “news” by Email.');
      expect(await api.expectStatus(200, 'GET', '/v1/subscribers/u-li/preferences')).toEqual({
        channels: {},
        categories: { news: { channels: { mail: false } } },
      });

      expect(await send('news-2', 'weekly_news', { userId: 'u-li' })).toBeUndefined();
      expect(await mailDelivery('news-2')).toEqual({ status: 'skipped', reason: 'preference' });
      // Other mail still reaches them: the link turned off one category on one channel.
      expect(await send('note-1', 'plain_note', { userId: 'u-li' })).toBeDefined();
    }, 60_000);

    it('puts no link on a critical mail, which reaches the person whatever they switched off', async () => {
      const mail = await send('code-1', 'login_code', { userId: 'u-li' });
      expect(mail).toBeDefined();
      expect(header(mail as ReceivedMail, 'List-Unsubscribe')).toBeUndefined();
      expect(header(mail as ReceivedMail, 'List-Unsubscribe-Post')).toBeUndefined();
    }, 60_000);

    it('refuses a tampered link, a link made for someone else, and a malformed one', async () => {
      await api.expectStatus(200, 'PUT', '/v1/subscribers/u-wang', { email: 'wang@example.com' });
      const link = linkOf(await send('note-wang', 'plain_note', { userId: 'u-wang' }));
      const token = new URLSearchParams(link.split('?')[1]).get('token') as string;
      const [body, sig] = token.split('.') as [string, string];
      const payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as { u: string };
      const forged = Buffer.from(JSON.stringify({ ...payload, u: 'u-li' })).toString('base64url');
      const otherSig = `${sig.slice(0, 5)}${sig[5] === 'A' ? 'B' : 'A'}${sig.slice(6)}`;

      for (const bad of [`${forged}.${sig}`, `${body}.${otherSig}`, 'nonsense'])
        expect((await oneClick(`/unsubscribe?token=${bad}`)).status).toBe(403);
      expect((await fetch(`${h.baseUrl}/unsubscribe?token=${body}.${otherSig}`)).status).toBe(403);
      expect((await fetch(`${h.baseUrl}/unsubscribe`)).status).toBe(400);
      expect(await api.expectStatus(200, 'GET', '/v1/subscribers/u-wang/preferences')).toEqual({
        channels: {},
        categories: {},
      });
      expect(await api.expectStatus(200, 'GET', '/v1/subscribers/u-li/preferences')).toEqual({
        channels: {},
        categories: { news: { channels: { mail: false } } },
      });

      // The genuine link still works, and its page saves the whole form.
      const saved = await oneClick(link, 'form=preferences&channel=im&shown=news&shown=security');
      expect(saved.status).toBe(200);
      expect(await api.expectStatus(200, 'GET', '/v1/subscribers/u-wang/preferences')).toMatchObject({
        channels: { mail: false },
        categories: { news: { enabled: false }, security: { enabled: false } },
      });
    }, 60_000);

    it('suppresses an address whose server answers 550 5.1.1 (no such user); the next send is skipped with suppressed, critical too, and the timeline says why', async () => {
      expect(await send('ghost-1', 'weekly_news', { email: 'ghost@example.com' })).toBeUndefined();
      expect(await mailDelivery('ghost-1')).toMatchObject({ status: 'failed' });
      const list = await api.expectStatus<{ items: Array<Record<string, unknown>> }>(
        200,
        'GET',
        '/v1/suppressions?address=ghost@example.com',
      );
      expect(list.items).toEqual([
        expect.objectContaining({
          address: 'ghost@example.com',
          reason: 'bounced',
          messageId: 'ghost-1',
          detail: expect.stringContaining('smtp_550: 550 5.1.1'),
        }),
      ]);
      const timeline = await api.expectStatus<{ entries: Array<{ source: string; summary: string }> }>(
        200,
        'GET',
        '/v1/messages/ghost-1/timeline',
      );
      expect(timeline.entries.find((e) => e.source === 'suppression')?.summary).toMatch(
        /^address suppressed \(bounced\): smtp_550: 550 5\.1\.1/,
      );

      await send('ghost-2', 'weekly_news', { email: 'ghost@example.com' });
      expect(await mailDelivery('ghost-2')).toEqual({ status: 'skipped', reason: 'suppressed' });
      await send('ghost-3', 'login_code', { email: 'Ghost@Example.com' });
      expect(await mailDelivery('ghost-3')).toEqual({ status: 'skipped', reason: 'suppressed' });
      // Skipped before any send: no attempt was made at all.
      const { rows } = await h.runtime.ctx.db.sql.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM "DeliveryAttempt" a JOIN "Delivery" d ON d.id = a."deliveryId"
        WHERE d."messageId" IN ('ghost-2', 'ghost-3')`,
      );
      expect(rows[0]?.n).toBe(0);

      // What Herald holds about a person includes their address's place on the list.
      await api.expectStatus(200, 'PUT', '/v1/subscribers/u-ghost', { email: 'Ghost@example.com' });
      const exported = await api.expectStatus<{ suppression: { reason: string } | null }>(
        200,
        'GET',
        '/v1/subscribers/u-ghost/export',
      );
      expect(exported.suppression).toMatchObject({ address: 'ghost@example.com', reason: 'bounced' });
      const li = await api.expectStatus<{ suppression: unknown }>(200, 'GET', '/v1/subscribers/u-li/export');
      expect(li.suppression).toBeNull();

      // A policy refusal says nothing about the address: it fails, and the address stays sendable.
      await send('policy-1', 'weekly_news', { email: 'policy@example.com' });
      expect(await mailDelivery('policy-1')).toMatchObject({ status: 'failed' });
      expect(
        (
          await api.expectStatus<{ items: unknown[] }>(
            200,
            'GET',
            '/v1/suppressions?address=policy@example.com',
          )
        ).items,
      ).toEqual([]);
    }, 60_000);

    it('unsubscribes an address without a user id through the suppression list (multipart one-click); critical mail still goes', async () => {
      const link = linkOf(await send('anon-1', 'weekly_news', { email: 'anon@example.com' }));
      const multipart =
        '--b0undary\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\nOne-Click\r\n--b0undary--\r\n';
      const res = await oneClick(link, multipart, 'multipart/form-data; boundary=b0undary');
      expect(res.status).toBe(200);
      expect(await res.text()).toContain('a•••@example.com');
      const [entry] = (
        await api.expectStatus<{ items: Array<Record<string, unknown>> }>(
          200,
          'GET',
          '/v1/suppressions?reason=unsubscribed',
        )
      ).items;
      expect(entry).toMatchObject({
        address: 'anon@example.com',
        reason: 'unsubscribed',
        messageId: 'anon-1',
      });

      await send('anon-2', 'plain_note', { email: 'anon@example.com' });
      expect(await mailDelivery('anon-2')).toEqual({ status: 'skipped', reason: 'suppressed' });
      expect(await send('anon-3', 'login_code', { email: 'anon@example.com' })).toBeDefined();

      // The person may undo their own unsubscribe from the same page.
      const again = await oneClick(link, 'form=resubscribe');
      expect(await again.text()).toContain('This address gets our messages again.');
      expect(await send('anon-4', 'plain_note', { email: 'anon@example.com' })).toBeDefined();
    }, 60_000);

    it('is managed over the admin API: add, list with a cursor, remove; audited by domain only', async () => {
      const added = await api.expectStatus<Record<string, unknown>>(201, 'POST', '/v1/suppressions', {
        address: 'Blocked@Example.org',
        detail: 'ticket 42',
      });
      expect(added).toMatchObject({ address: 'blocked@example.org', reason: 'manual', detail: 'ticket 42' });
      await api.expectStatus(400, 'POST', '/v1/suppressions', { address: 'not an address' });

      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const q: string = cursor ? `&cursor=${cursor}` : '';
        const page: { items: Array<{ address: string }>; nextCursor: string | null } = await api.expectStatus(
          200,
          'GET',
          `/v1/suppressions?limit=1${q}`,
        );
        expect(page.items.length).toBeLessThanOrEqual(1);
        seen.push(...page.items.map((i) => i.address));
        cursor = page.nextCursor;
      } while (cursor);
      expect(seen).toEqual(['blocked@example.org', 'ghost@example.com']);

      await send('blocked-1', 'plain_note', { email: 'blocked@example.org' });
      expect(await mailDelivery('blocked-1')).toEqual({ status: 'skipped', reason: 'suppressed' });
      await api.expectStatus(204, 'DELETE', '/v1/suppressions/blocked%40example.org');
      await api.expectStatus(404, 'DELETE', '/v1/suppressions/blocked%40example.org');
      expect(await send('blocked-2', 'plain_note', { email: 'blocked@example.org' })).toBeDefined();

      const audit = await api.expectStatus<{ items: Array<{ action: string; target: { id: string } }> }>(
        200,
        'GET',
        '/v1/audit?targetType=suppression',
      );
      expect(audit.items.map((a) => [a.action, a.target.id]).sort()).toEqual([
        ['suppression.add', 'example.org'],
        ['suppression.remove', 'example.org'],
      ]);
      expect(JSON.stringify(audit)).not.toContain('blocked@');
    }, 60_000);

    it("keeps an erased person's suppression by a keyed hash alone: still honoured, found and removed by address, listed without it", async () => {
      await api.expectStatus(200, 'PUT', '/v1/subscribers/u-gone', {
        email: 'Gone@Example.net',
        name: 'Gone',
      });
      await send('gone-1', 'weekly_news', { userId: 'u-gone' });
      expect(await mailDelivery('gone-1')).toMatchObject({ status: 'failed' });
      const byAddress = () =>
        api.expectStatus<{ items: Array<Record<string, unknown>> }>(
          200,
          'GET',
          '/v1/suppressions?address=gone@example.net',
        );
      expect((await byAddress()).items).toEqual([
        expect.objectContaining({ address: 'gone@example.net', reason: 'bounced' }),
      ]);

      const erasure = await api.expectStatus<{ suppressions: number }>(
        200,
        'DELETE',
        '/v1/subscribers/u-gone',
      );
      // Nothing in the table names the address any more, in any column (the bounce text quoted it).
      const sql = h.runtime.ctx.db.sql;
      const { rows: naming } = await sql.query(
        `SELECT 1 FROM "Suppression" s WHERE s::text ILIKE '%gone@example.net%'`,
      );
      expect(naming).toHaveLength(0);
      expect(erasure.suppressions).toBe(1);
      const { rows: erased } = await sql.query<{ addressHash: string; detail: string }>(
        `SELECT "addressHash", detail FROM "Suppression" WHERE address IS NULL`,
      );
      expect(erased).toHaveLength(1);
      expect(erased[0]?.addressHash).toMatch(/^[0-9a-f]{64}$/);
      expect(erased[0]?.detail).toContain('<[erased]>: Recipient address rejected');

      // Still honoured, whoever sends to the address and however it is written.
      await send('gone-2', 'plain_note', { email: 'gone@example.net' });
      expect(await mailDelivery('gone-2')).toEqual({ status: 'skipped', reason: 'suppressed' });
      await send('gone-3', 'login_code', { email: 'GONE@example.net' });
      expect(await mailDelivery('gone-3')).toEqual({ status: 'skipped', reason: 'suppressed' });

      // Found by the address given in clear, and listed without it.
      const entry = { address: null, erased: true, reason: 'bounced', messageId: 'gone-1' };
      expect((await byAddress()).items).toEqual([expect.objectContaining(entry)]);
      const all = await api.expectStatus<{ items: Array<Record<string, unknown>> }>(
        200,
        'GET',
        '/v1/suppressions',
      );
      expect(all.items).toContainEqual(expect.objectContaining(entry));
      expect(JSON.stringify(all)).not.toContain('gone@');
      // An admin's block of the address changes the entry's reason; it stays a hash.
      const blocked = await api.expectStatus<Record<string, unknown>>(201, 'POST', '/v1/suppressions', {
        address: 'gone@example.net',
      });
      expect(blocked).toMatchObject({ address: null, erased: true, reason: 'manual' });
      expect((await byAddress()).items).toHaveLength(1);

      await api.expectStatus(204, 'DELETE', '/v1/suppressions/gone%40example.net');
      await api.expectStatus(404, 'DELETE', '/v1/suppressions/gone%40example.net');
      expect((await byAddress()).items).toEqual([]);
    }, 60_000);
  },
);
