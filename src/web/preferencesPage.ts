import { createHash } from 'node:crypto';
import type { Preferences } from '../contract/subscriber';
import type { SuppressionReason } from '../contract/suppression';
import { pageCsp } from './staticPage';

/** A channel as the page shows it. */
export interface PageChannel {
  name: string;
  label: string;
}

/** What the page behind a message's unsubscribe link shows. */
export type PreferencesPage =
  | {
      kind: 'user';
      /** The channel the link came by, and the category of its message (null: it had none). */
      channel: PageChannel;
      category: string | null;
      preferences: Preferences;
      /** Categories to offer, and the person's channels (those that reach one person). */
      categories: readonly string[];
      channels: readonly PageChannel[];
      notice?: string;
    }
  | {
      kind: 'address';
      channel: PageChannel;
      /** Shown masked: whoever holds the link sees the page. */
      address: string;
      suppressed?: SuppressionReason;
      notice?: string;
    };

const STYLE = `body{font:16px/1.5 system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1d2330}
main{max-width:40rem;margin:2rem auto;padding:1.5rem 2rem;background:#fff;border-radius:8px}
h1{font-size:1.4rem;margin-top:0}.notice{background:#e8f4ea;padding:.6rem .9rem;border-radius:6px}
.error{background:#fbeaea}table{border-collapse:collapse;margin:1rem 0}th,td{padding:.3rem .7rem;text-align:left}
thead th{font-weight:600;border-bottom:1px solid #ccd}fieldset{border:1px solid #dde;border-radius:6px;margin:1rem 0}
button{font:inherit;padding:.45rem 1rem;border-radius:6px;border:1px solid #345;background:#234;color:#fff;cursor:pointer}
.small{font-size:.85rem;color:#556}`;

/**
 * Herald's page policy, with no script and no fetch at all, its only style the inline sheet above (allowed
 * by its hash), and forms that post back to the page's own URL (the link, whose token is the credential).
 */
export const PREFERENCES_PAGE_CSP = pageCsp(
  "script-src 'none'",
  `style-src 'sha256-${createHash('sha256').update(STYLE).digest('base64')}'`,
  "connect-src 'none'",
  "form-action 'self'",
);

const switchOf = (switches: Preferences['channels'], c: PageChannel): boolean | undefined =>
  (switches as Record<string, boolean | undefined>)[c.name];

export function escapeHtml(s: string): string {
  return s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );
}

/** `li@example.com` → `l•@example.com`: enough for its owner to recognise, little for anyone else. */
export function maskAddress(address: string): string {
  const at = address.lastIndexOf('@');
  if (at < 1) return '•••';
  return `${address[0]}${'•'.repeat(Math.min(at - 1, 3) || 1)}${address.slice(at)}`;
}

const checkbox = (name: string, value: string, on: boolean, aria: string) =>
  `<input type="checkbox" name="${name}" value="${escapeHtml(value)}"${on ? ' checked' : ''} aria-label="${escapeHtml(aria)}">`;

const oneClick = (text: string) =>
  `<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click"><button>${escapeHtml(text)}</button></form>`;

function userBody(p: Extract<PreferencesPage, { kind: 'user' }>): string {
  const prefs = p.preferences;
  const by = p.channel.label;
  const unsubscribe = p.category
    ? oneClick(`Unsubscribe from “${p.category}” by ${by}`)
    : oneClick(`Unsubscribe from everything by ${by} (except critical notices)`);
  const channels = p.channels
    .map(
      (c) =>
        `<label>${checkbox('channel', c.name, switchOf(prefs.channels, c) !== false, c.label)} ${escapeHtml(c.label)}</label>`,
    )
    .join(' ');
  const rows = p.categories
    .map((cat) => {
      const entry = prefs.categories[cat];
      const cells = p.channels
        .map((c) => {
          const on = switchOf(entry?.channels ?? {}, c) !== false;
          return `<td>${checkbox('categoryChannel', `${c.name}:${cat}`, on, `${cat} by ${c.label}`)}</td>`;
        })
        .join('');
      return `<tr><th scope="row">${escapeHtml(cat)}<input type="hidden" name="shown" value="${escapeHtml(cat)}"></th><td>${checkbox('category', cat, entry?.enabled !== false, `${cat} on`)}</td>${cells}</tr>`;
    })
    .join('');
  const head = p.channels.map((c) => `<th scope="col">${escapeHtml(c.label)}</th>`).join('');
  const table = p.categories.length
    ? `<table><thead><tr><th scope="col">Kind of notification</th><th scope="col">On</th>${head}</tr></thead><tbody>${rows}</tbody></table>`
    : '';
  return `${unsubscribe}
<form method="post"><input type="hidden" name="form" value="preferences">
<fieldset><legend>Channels</legend>${channels}</fieldset>
${table}
<button>Save preferences</button></form>
<p class="small">Critical notices (security codes, outages) still reach you whatever you choose here.</p>`;
}

function addressBody(p: Extract<PreferencesPage, { kind: 'address' }>): string {
  const who = `<p>${escapeHtml(p.channel.label)} to <strong>${escapeHtml(maskAddress(p.address))}</strong>.</p>`;
  if (p.suppressed === 'unsubscribed')
    return `${who}<p>This address is unsubscribed from everything except critical notices.</p>
<form method="post"><input type="hidden" name="form" value="resubscribe"><button>Subscribe again</button></form>`;
  if (p.suppressed)
    return `${who}<p>Nothing is sent to this address: it was blocked by the sender or refused by its server.</p>`;
  return `${who}${oneClick('Unsubscribe this address from everything')}
<p class="small">Critical notices (security codes, outages) still reach you.</p>`;
}

export function renderPreferencesPage(p: PreferencesPage): string {
  const notice = p.notice ? `<p class="notice" role="status">${escapeHtml(p.notice)}</p>` : '';
  return page('Notification preferences', `${notice}${p.kind === 'user' ? userBody(p) : addressBody(p)}`);
}

/** The page for a link that cannot be used: altered, not from here, expired. */
export function renderLinkProblem(message: string): string {
  return page(
    'Notification preferences',
    `<p class="notice error" role="alert">${escapeHtml(message)}</p>
<p>Use the link in a more recent email from us.</p>`,
  );
}

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body><main><h1>${escapeHtml(title)}</h1>
${body}
</main></body></html>
`;
}
