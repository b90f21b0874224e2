import { withChannelOff } from '../../src/audience/preferences';
import { rejectsMailbox } from '../../src/senders/mail/classifySmtpError';
import { parseMultipart, parseUrlEncoded } from '../../src/web/formBody';
import { preferencesFromForm } from '../../src/web/preferencesForm';
import { maskAddress, PREFERENCES_PAGE_CSP, renderPreferencesPage } from '../../src/web/preferencesPage';
import { CONSOLE_CSP } from '../../src/web/consoleRoute';

const rcpt = (response: string) => ({ code: 'EENVELOPE', command: 'RCPT TO', responseCode: 550, response });

describe('which refusals say the mailbox does not exist', () => {
  it('takes 5.1.x addressing statuses at RCPT TO', () => {
    expect(rejectsMailbox(rcpt('550 5.1.1 <x@example.com>: Recipient address rejected: User unknown'))).toBe(
      true,
    );
    expect(rejectsMailbox(rcpt('550-5.1.1 The email account that you tried to reach does not exist.'))).toBe(
      true,
    );
    expect(rejectsMailbox(rcpt('553 5.1.3 bad address syntax'))).toBe(true);
    expect(rejectsMailbox(rcpt('550 5.1.10 null MX'))).toBe(true);
  });

  it('leaves policy refusals, other stages, mailbox-full and bare 550s alone', () => {
    expect(rejectsMailbox(rcpt('550 5.7.1 Relaying denied'))).toBe(false);
    expect(rejectsMailbox(rcpt('550 Requested action not taken: mailbox unavailable'))).toBe(false);
    expect(rejectsMailbox(rcpt('552 5.2.2 mailbox full'))).toBe(false);
    expect(rejectsMailbox(rcpt('550 5.1.8 bad sender address'))).toBe(false);
    expect(rejectsMailbox(rcpt('450 4.1.1 try later'))).toBe(false);
    expect(rejectsMailbox({ ...rcpt('550 5.1.1 no such user'), command: 'DATA' })).toBe(false);
    expect(rejectsMailbox(new Error('550 5.1.1'))).toBe(false);
  });
});

describe('one-click and the preferences form', () => {
  const none = { channels: {}, categories: {} };

  it('turns the category off on mail only, or all mail without a category', () => {
    const prefs = { channels: {}, categories: { billing: { channels: { im: false } } } };
    expect(withChannelOff(prefs, 'mail', 'billing')).toEqual({
      channels: {},
      categories: { billing: { channels: { im: false, mail: false } } },
    });
    expect(withChannelOff(none, 'mail', null)).toEqual({ channels: { mail: false }, categories: {} });
  });

  it('reads unticked boxes of the categories it showed as off, and keeps what it did not show', () => {
    const form = parseUrlEncoded(
      'form=preferences&channel=mail&shown=billing&shown=news&category=news&categoryChannel=mail%3Anews',
    );
    const current = { channels: { dingtalk: false }, categories: { ops: { enabled: false } } };
    expect(preferencesFromForm(current, form, ['mail', 'im'])).toEqual({
      channels: { dingtalk: false, im: false },
      categories: {
        ops: { enabled: false },
        billing: { enabled: false, channels: { mail: false, im: false } },
        news: { channels: { im: false } },
      },
    });
    const allOn = parseUrlEncoded(
      'channel=mail&channel=im&shown=ops&category=ops&categoryChannel=mail:ops&categoryChannel=im:ops',
    );
    expect(preferencesFromForm(current, allOn, ['mail', 'im'])).toEqual({
      channels: { dingtalk: false },
      categories: {},
    });
  });

  it('parses a multipart one-click post (RFC 8058 allows either encoding)', () => {
    const body =
      '--XyZ\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\nOne-Click\r\n--XyZ--\r\n';
    expect(parseMultipart(body, 'multipart/form-data; boundary=XyZ').get('List-Unsubscribe')).toEqual([
      'One-Click',
    ]);
    expect(() => parseMultipart(body, 'multipart/form-data')).toThrow(/boundary/);
  });

  it('escapes what it shows and masks the address', () => {
    expect(maskAddress('li@example.com')).toBe('l•@example.com');
    expect(maskAddress('wangwei@example.com')).toBe('w•••@example.com');
    const html = renderPreferencesPage({
      kind: 'user',
      channel: { name: 'mail', label: 'Email' },
      category: '<b>x</b>',
      preferences: none,
      categories: ['<b>x</b>'],
      channels: [{ name: 'mail', label: '<i>Email</i>' }],
    });
    expect(html).not.toContain('<b>x</b>');
    expect(html).not.toContain('<i>Email</i>');
    expect(html).toContain('&lt;b&gt;x&lt;/b&gt;');
    expect(html).not.toMatch(/<script/i);
  });
});

describe("the preferences page's policy, from the pages' one helper", () => {
  it('replaces the directives it names instead of adding second ones a browser would ignore', () => {
    const directives = PREFERENCES_PAGE_CSP.split('; ');
    expect(directives.filter((d) => d.startsWith('form-action'))).toEqual(["form-action 'self'"]);
    expect(directives.filter((d) => d.startsWith('script-src'))).toEqual(["script-src 'none'"]);
    expect(directives.filter((d) => d.startsWith('style-src'))).toEqual([
      expect.stringMatching(/^style-src 'sha256-[A-Za-z0-9+/]+=*'$/),
    ]);
    expect(directives).toEqual(expect.arrayContaining(["frame-ancestors 'none'", "base-uri 'none'"]));
    expect(PREFERENCES_PAGE_CSP).not.toContain('unsafe');
  });

  it("leaves the console's policy as it was", () => {
    expect(CONSOLE_CSP).toBe(
      "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; frame-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    );
  });
});
