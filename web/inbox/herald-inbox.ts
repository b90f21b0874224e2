import { html, LitElement, nothing, svg, type PropertyValues } from 'lit';
import { repeat } from 'lit/directives/repeat.js';
import {
  connect,
  withSwitch,
  type HeraldInbox,
  type InboxError,
  type InboxItem,
  type InboxStatus,
  type Preferences,
  type Switch,
} from '../client';
import { inboxStyles } from './inboxStyles';
import { preferencesPanel } from './preferencesPanel';
import { stringsFor } from './strings';

const bellIcon = svg`<path fill="currentColor" d="M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22Zm7-6V11a7 7 0 0 0-5.5-6.84V3.5a1.5 1.5 0 0 0-3 0v.66A7 7 0 0 0 5 11v5l-2 2v1h18v-1l-2-2Z"/>`;

/**
 * `<herald-inbox>`: a bell with the unread count and a list of the user's in-site messages, live over
 * Herald's gateway. Give it a token with the `token` property (a function returning a promise) or a
 * `token-url` that answers the token as text; `url` is Herald's base URL (this page's origin by default).
 *
 * Attributes: `url`, `token-url`, `lang` (`en`, `zh-CN`), `inline` (the list always shown, no bell),
 * `open`, `badge` (`unread`, the default, or `unseen`: what the bell counts), `channels` and
 * `categories` (comma-separated: the switches the preferences panel offers; the categories of the user's
 * items and stored preferences are added). Events: `herald-item-click` (detail: the item),
 * `herald-unread` (detail: the count).
 */
export class HeraldInboxElement extends LitElement {
  static override styles = inboxStyles;
  static override properties = {
    url: { type: String },
    tokenUrl: { type: String, attribute: 'token-url' },
    lang: { type: String },
    inline: { type: Boolean, reflect: true },
    open: { type: Boolean, reflect: true },
    token: { attribute: false },
    badge: { type: String },
    channels: { type: String },
    categories: { type: String },
    _items: { state: true },
    _unseen: { state: true },
    _prefs: { state: true },
    _prefsOpen: { state: true },
    _prefsNote: { state: true },
    _unread: { state: true },
    _status: { state: true },
    _error: { state: true },
    _olderDone: { state: true },
    _tabs: { state: true },
    _tab: { state: true },
    _tabItems: { state: true },
  };

  declare url: string | undefined;
  declare tokenUrl: string | undefined;
  declare inline: boolean;
  declare open: boolean;
  /** Returns a user token; called for every connection. Takes precedence over `token-url`. */
  declare token: (() => Promise<string>) | undefined;
  declare badge: 'unread' | 'unseen' | undefined;
  declare channels: string | undefined;
  declare categories: string | undefined;
  declare _items: readonly InboxItem[];
  declare _unread: number;
  declare _unseen: number;
  declare _prefs: Preferences | undefined;
  declare _prefsOpen: boolean;
  declare _prefsNote: string | undefined;
  declare _status: InboxStatus;
  declare _error: InboxError | undefined;
  declare _olderDone: boolean;
  /** Declared tabs with their unread counts (from the server's counts). */
  declare _tabs: Array<[name: string, unread: number]>;
  declare _tab: string | undefined;
  declare _tabItems: readonly InboxItem[];
  #seenQueue = new Set<string>();
  #seenTimer: ReturnType<typeof setTimeout> | undefined;
  #observer: IntersectionObserver | undefined;
  #tabTimer: ReturnType<typeof setTimeout> | undefined;
  #client: HeraldInbox | undefined;
  /** What the running client was started with; a change of any restarts it. */
  #startedWith: { token: unknown; tokenUrl: unknown; url: unknown } | undefined;

  constructor() {
    super();
    this.inline = false;
    this.open = false;
    this._items = [];
    this._unread = 0;
    this._unseen = 0;
    this._prefsOpen = false;
    this._status = 'connecting';
    this._olderDone = false;
    this._tabs = [];
    this._tabItems = [];
  }

  /** The connected client, for anything the element does not show. */
  get client(): HeraldInbox | undefined {
    return this.#client;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.#start();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.#stop();
  }

  protected override updated(_changed: PropertyValues<this>): void {
    const s = this.#startedWith;
    if (s && (s.token !== this.token || s.tokenUrl !== this.tokenUrl || s.url !== this.url)) this.#stop();
    this.#start();
    this.#watchSeen();
  }

  /** Items shown in the list are marked seen as they scroll into view, in batches. */
  #watchSeen(): void {
    this.#observer ??= new IntersectionObserver((entries) => {
      for (const e of entries) {
        const id = (e.target as HTMLElement).dataset.id;
        if (e.isIntersecting && id) {
          this.#seenQueue.add(id);
          this.#observer?.unobserve(e.target);
        }
      }
      clearTimeout(this.#seenTimer);
      this.#seenTimer = setTimeout(() => {
        const ids = [...this.#seenQueue];
        this.#seenQueue.clear();
        if (ids.length) void this.#client?.markSeen(ids);
      }, 300);
    });
    for (const li of this.renderRoot.querySelectorAll('li.unseen')) this.#observer.observe(li);
  }

  async #showTab(tab: string | undefined): Promise<void> {
    this._tab = tab;
    if (tab === undefined || !this.#client) return;
    try {
      this._tabItems = (await this.#client.tabPage(tab)).items;
    } catch (err) {
      this._error = { code: 'load_failed', message: String(err) };
    }
  }

  #tokenSource(): (() => Promise<string>) | undefined {
    if (this.token) return this.token;
    const from = this.tokenUrl;
    if (!from) return undefined;
    return async () => {
      const res = await fetch(from, { credentials: 'include' });
      if (!res.ok) throw new Error(`token-url answered ${res.status}`);
      return (await res.text()).trim();
    };
  }

  #start(): void {
    if (this.#client || !this.isConnected) return;
    const token = this.#tokenSource();
    if (!token) return;
    const client = connect({ url: this.url ?? location.origin, token });
    this.#client = client;
    this.#startedWith = { token: this.token, tokenUrl: this.tokenUrl, url: this.url };
    client.on('change', (items) => {
      this._items = items;
      if (this._tab !== undefined) {
        clearTimeout(this.#tabTimer);
        this.#tabTimer = setTimeout(() => void this.#showTab(this._tab), 200);
      }
    });
    client.on('counts', (c) => {
      this._unseen = c.unseen;
      this._tabs = Object.entries(c.tabs).map(([name, n]) => [name, n.unread]);
    });
    client.on('unread', (n) => {
      this._unread = n;
      this.dispatchEvent(new CustomEvent('herald-unread', { detail: n, bubbles: true, composed: true }));
    });
    client.on('status', (s) => {
      this._status = s.status;
      if (s.status === 'open') this._error = undefined;
      else if (s.error && !s.error.code.startsWith('closed_')) this._error = s.error;
    });
    client.on('error', (e) => {
      this._error = e;
    });
  }

  #stop(): void {
    this.#client?.close();
    this.#client = undefined;
    this.#startedWith = undefined;
    this._items = [];
    this._unread = 0;
    this._unseen = 0;
    this._prefs = undefined;
    this._prefsOpen = false;
    this._olderDone = false;
    this._tabs = [];
    this._tab = undefined;
    this._tabItems = [];
  }

  async #openPreferences(): Promise<void> {
    this._prefsOpen = true;
    this._prefsNote = undefined;
    try {
      this._prefs = await this.#client?.preferences();
    } catch (err) {
      this._error = { code: 'load_failed', message: String(err) };
    }
  }

  /** Saved as soon as it is switched; the stored answer is what the panel shows. */
  async #toggle(at: Switch, on: boolean, saved: string): Promise<void> {
    if (!this._prefs || !this.#client) return;
    try {
      this._prefs = await this.#client.setPreferences(withSwitch(this._prefs, at, on));
      this._prefsNote = saved;
    } catch (err) {
      this._prefsNote = String(err);
    }
  }

  /** The panel's categories: the page's, then those of the user's items and stored switches. */
  #categoryList(): string[] {
    const given = (this.categories ?? '').split(',').map((c) => c.trim());
    const held = this._items.map((i) => i.category ?? '');
    return [...new Set([...given, ...held, ...Object.keys(this._prefs?.categories ?? {})])].filter(Boolean);
  }

  #clickItem(item: InboxItem): void {
    void this.#client?.markRead([item.id]);
    this.dispatchEvent(
      new CustomEvent('herald-item-click', { detail: item, bubbles: true, composed: true, cancelable: true }),
    );
  }

  #actionButtons(i: InboxItem, t: ReturnType<typeof stringsFor>['strings']) {
    if (!i.actions) return nothing;
    if (i.actionedAt) return html`<span class="done" part="actioned">${t.actioned(i.action ?? '')}</span>`;
    return (['primary', 'secondary'] as const).map((which) => {
      const a = i.actions?.[which];
      return a
        ? html`<button class="action ${which}" part="action-${which}" @click=${() => this.#act(i, which)}>
            ${a.label}
          </button>`
        : nothing;
    });
  }

  #act(i: InboxItem, which: 'primary' | 'secondary'): void {
    void this.#client?.act(i.id, which);
    const a = i.actions?.[which];
    this.dispatchEvent(
      new CustomEvent('herald-action', { detail: { item: i, action: which }, bubbles: true, composed: true }),
    );
    if (a && 'url' in a && this.hasAttribute('follow-links')) location.assign(a.url);
  }

  async #loadOlder(): Promise<void> {
    const page = await this.#client?.loadOlder().catch((err: unknown) => {
      this._error = { code: 'load_failed', message: String(err) };
      return undefined;
    });
    if (page?.done) this._olderDone = true;
  }

  #when(iso: string, locale: string): string {
    return new Date(iso).toLocaleString(locale, { dateStyle: 'medium', timeStyle: 'short' });
  }

  protected override render() {
    const { strings: t, locale } = stringsFor(
      this.lang || document.documentElement.lang || navigator.language,
    );
    const unseen = this.badge === 'unseen';
    const n = unseen ? this._unseen : this._unread;
    const count = n > 99 ? '99+' : String(n);
    const bell = this.inline
      ? nothing
      : html`<button
          part="bell"
          class="bell"
          aria-label=${unseen ? t.bellUnseen(n) : t.bell(n)}
          aria-expanded=${this.open ? 'true' : 'false'}
          @click=${() => (this.open = !this.open)}
        >
          <svg viewBox="0 0 24 24" aria-hidden="true">${bellIcon}</svg>
          ${n > 0 ? html`<span part="badge" class=${unseen ? 'badge unseen' : 'badge'}>${count}</span>` : nothing}
        </button>`;
    if (!this.inline && !this.open) return bell;
    const status =
      this._error && this._status !== 'open'
        ? html`<p part="error" class="note error" role="alert">${t.error(this._error.code)}</p>`
        : this._status === 'offline'
          ? html`<p class="note" role="status">${t.offline}</p>`
          : this._status === 'connecting' && this._items.length === 0
            ? html`<p class="note" role="status">${t.connecting}</p>`
            : nothing;
    return html`${bell}
      <section part="panel" class="panel" aria-label=${t.title}>
        <header>
          <h2>
            ${t.title}
            ${this.inline && n > 0 ? html`<span part="badge" class="badge inline-badge">${count}</span>` : nothing}
          </h2>
          <span>
            <button
              part="mark-all"
              class="link"
              ?disabled=${this._unread === 0}
              @click=${() => void this.#client?.markAllRead()}
            >
              ${t.markAllRead}
            </button>
            <button
              part="preferences-toggle"
              class="link prefs"
              aria-pressed=${this._prefsOpen ? 'true' : 'false'}
              @click=${() => (this._prefsOpen ? (this._prefsOpen = false) : void this.#openPreferences())}
            >
              ${t.preferences}
            </button>
          </span>
        </header>
        ${status}
        ${
          this._prefsOpen
            ? preferencesPanel({
                prefs: this._prefs,
                channels: (this.channels ?? 'im,mail')
                  .split(',')
                  .map((c) => c.trim())
                  .filter(Boolean),
                categories: this.#categoryList(),
                note: this._prefsNote,
                t,
                toggle: (at, on) => void this.#toggle(at, on, t.saved),
                back: () => (this._prefsOpen = false),
              })
            : this.#list(t, locale)
        }
      </section>`;
  }

  #list(t: ReturnType<typeof stringsFor>['strings'], locale: string) {
    return html` ${
      this._tabs.length
        ? html`<nav class="tabs" part="tabs">
            <button
              class=${this._tab === undefined ? 'tab active' : 'tab'}
              @click=${() => void this.#showTab(undefined)}
            >
              ${t.allTab}
            </button>
            ${this._tabs.map(
              ([name, n]) =>
                html`<button
                  class=${this._tab === name ? 'tab active' : 'tab'}
                  data-tab=${name}
                  @click=${() => void this.#showTab(name)}
                >
                  ${name}${n > 0 ? html` <span class="tab-count">${n}</span>` : nothing}
                </button>`,
            )}
          </nav>`
        : nothing
    }
    ${
      this._items.length === 0 && this._status === 'open'
        ? html`<p part="empty" class="note empty">${t.empty}</p>`
        : html`<ul part="list">
            ${repeat(
              this._tab === undefined ? this._items : this._tabItems,
              (i) => i.id,
              (i) =>
                html`<li
                  part="item"
                  class="${i.readAt ? 'read' : 'unread'}${i.seenAt ? '' : ' unseen'} severity-${i.severity}"
                  data-id=${i.id}
                  @click=${() => this.#clickItem(i)}
                >
                  <span class="dot" title=${i.readAt ? '' : t.unreadLabel}></span>
                  <div class="text">
                    <div class="title">${i.title}</div>
                    <div class="body">${i.body}</div>
                    <time datetime=${i.createdAt}>${this.#when(i.createdAt, locale)}</time>
                  </div>
                  <div class="item-actions" @click=${(e: Event) => e.stopPropagation()}>
                    ${this.#actionButtons(i, t)}
                    ${
                      i.readAt
                        ? nothing
                        : html`<button
                            class="link"
                            part="mark-read"
                            @click=${() => void this.#client?.markRead([i.id])}
                          >
                            ${t.markRead}
                          </button>`
                    }
                    <button class="link" part="archive" @click=${() => void this.#client?.archive([i.id])}>
                      ${t.archive}
                    </button>
                    <button
                      class="link"
                      part="snooze"
                      @click=${() => void this.#client?.snooze([i.id], { for: '1h' })}
                    >
                      ${t.snooze}
                    </button>
                  </div>
                </li>`,
            )}
          </ul>`
    }
    ${
      this._items.length > 0 && !this._olderDone
        ? html`<button class="more" part="load-more" @click=${() => void this.#loadOlder()}>
            ${t.loadMore}
          </button>`
        : nothing
    }`;
  }
}

if (!customElements.get('herald-inbox')) customElements.define('herald-inbox', HeraldInboxElement);

declare global {
  interface HTMLElementTagNameMap {
    'herald-inbox': HeraldInboxElement;
  }
}

export { connect } from '../client';
export type { HeraldInbox, InboxItem } from '../client';
