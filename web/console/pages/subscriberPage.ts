import { html, nothing } from 'lit';
import { switchedOn, withSwitch, type Preferences, type Switch } from '../../client/preferences';
import { Channel } from '../../../src/generated/prisma/enums';
import { api, ApiError, enc } from '../api';
import { errorText, Page, when } from '../page';

export interface Subscriber {
  userId: string;
  email?: string;
  name?: string;
  locale?: string;
  timezone: string | null;
  quietHours: { from: string; to: string } | null;
  data: Record<string, unknown> | null;
  preferences: Preferences;
  createdAt: string;
  updatedAt: string;
  [field: string]: unknown;
}

const CHANNELS = Object.values(Channel);
/** What the API shows but PUT does not take: the rest is the editable subscriber. */
const NOT_EDITABLE = new Set(['userId', 'preferences', 'createdAt', 'updatedAt']);

function editable(s: Subscriber | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(s ?? {})) if (!NOT_EDITABLE.has(k) && v !== null) out[k] = v;
  return out;
}

/**
 * One subscriber: their fields (edited as the JSON PUT takes), their preferences as switches, everything
 * Herald holds about them as a JSON file (export), and erasure everywhere after a confirmation.
 */
class SubscriberPage extends Page {
  static override properties = {
    userId: { attribute: false },
    _s: { state: true },
    _missing: { state: true },
    _prefs: { state: true },
    _categories: { state: true },
    _message: { state: true },
    _confirmErase: { state: true },
    _erased: { state: true },
  };
  declare userId: string;
  declare _s: Subscriber | undefined;
  declare _missing: boolean;
  declare _prefs: Preferences;
  /** Categories shown in the switches: the stored ones and any added here. */
  declare _categories: string[];
  declare _message: { kind: 'ok' | 'error'; text: string } | undefined;
  declare _confirmErase: boolean;
  declare _erased: Record<string, unknown> | undefined;

  constructor() {
    super();
    this._missing = false;
    this._prefs = { channels: {}, categories: {} };
    this._categories = [];
    this._confirmErase = false;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    void this.#load();
  }

  #path(rest = ''): string {
    return `/v1/subscribers/${enc(this.userId)}${rest}`;
  }

  async #load(): Promise<void> {
    try {
      this._s = await api<Subscriber>('GET', this.#path());
      this._missing = false;
      this.#showPreferences(this._s.preferences);
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) this._missing = true;
      else this._message = { kind: 'error', text: errorText(err) };
    }
  }

  #showPreferences(p: Preferences): void {
    this._prefs = p;
    this._categories = [...new Set([...this._categories, ...Object.keys(p.categories)])];
  }

  async #run(label: string, call: () => Promise<void>): Promise<void> {
    try {
      await call();
      this._message = { kind: 'ok', text: label };
    } catch (err) {
      this._message = { kind: 'error', text: errorText(err) };
    }
  }

  #save(e: Event): Promise<void> {
    e.preventDefault();
    return this.#run('Saved.', async () => {
      const body = JSON.parse(this.field('sub-json') || '{}') as Record<string, unknown>;
      this._s = await api<Subscriber>('PUT', this.#path(), body);
      this._missing = false;
    });
  }

  #savePreferences(): Promise<void> {
    return this.#run('Preferences saved.', async () => {
      this.#showPreferences(await api<Preferences>('PUT', this.#path('/preferences'), this._prefs));
    });
  }

  #export(): Promise<void> {
    return this.#run('Exported.', async () => {
      const data = await api<unknown>('GET', this.#path('/export'));
      const url = URL.createObjectURL(
        new Blob([JSON.stringify(data, null, 2)], { type: 'application/json' }),
      );
      const a = document.createElement('a');
      a.href = url;
      a.download = `herald-subscriber-${this.userId}.json`;
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    });
  }

  #erase(): Promise<void> {
    return this.#run('Erased everywhere Herald held them.', async () => {
      this._erased = await api<Record<string, unknown>>('DELETE', this.#path());
      this._confirmErase = false;
      this._s = undefined;
      this._missing = true;
    });
  }

  #switch(at: Switch, label: string) {
    return html`<label class="inline"
      ><input
        type="checkbox"
        data-category=${at.category ?? ''}
        data-channel=${at.channel ?? ''}
        .checked=${switchedOn(this._prefs, at)}
        @change=${(e: Event) =>
          (this._prefs = withSwitch(this._prefs, at, (e.target as HTMLInputElement).checked))}
      />${label}</label
    >`;
  }

  #preferences() {
    return html`<section class="preferences">
      <h2>Preferences</h2>
      <p class="meta">Unticked is off; critical templates reach them anyway.</p>
      <div class="switches" data-row="channels">
        <strong>Channels</strong> ${CHANNELS.map((c) => this.#switch({ channel: c }, c))}
      </div>
      ${this._categories.map(
        (cat) =>
          html`<div class="switches" data-row=${cat}>
            <strong>${cat}</strong> ${this.#switch({ category: cat }, 'on')} |
            ${CHANNELS.map((c) => this.#switch({ category: cat, channel: c }, c))}
          </div>`,
      )}
      <div class="toolbar">
        <input id="p-new-category" placeholder="category (e.g. billing)" />
        <button
          class="quiet"
          id="p-add-category"
          @click=${() => {
            const cat = this.field('p-new-category');
            if (cat && !this._categories.includes(cat)) this._categories = [...this._categories, cat];
          }}
        >
          Add category
        </button>
        <button id="p-save" @click=${() => void this.#savePreferences()}>Save preferences</button>
      </div>
    </section>`;
  }

  protected override render() {
    const s = this._s;
    return html`<h1>Subscriber ${this.userId}</h1>
      <p><a href="#/subscribers">All subscribers</a></p>
      ${this._message ? html`<p class=${this._message.kind} role="status">${this._message.text}</p>` : nothing}
      ${
        this._erased
          ? html`<pre class="erasure">${JSON.stringify(this._erased, null, 2)}</pre>`
          : this._missing
            ? html`<p class="empty">Not in the directory: saving creates them.</p>`
            : nothing
      }
      ${s ? html`<p class="meta">created ${when(s.createdAt)}, updated ${when(s.updatedAt)}</p>` : nothing}
      <form class="subscriber-form" @submit=${(e: Event) => void this.#save(e)}>
        <label for="sub-json">addresses, name, locale, timezone, quietHours, data (JSON)</label>
        <textarea id="sub-json" rows="10" .value=${JSON.stringify(editable(s), null, 2)}></textarea>
        <div class="actions"><button type="submit" id="sub-save">Save</button></div>
      </form>
      ${s ? this.#preferences() : nothing}
      <div class="toolbar">
        <button class="quiet" id="sub-export" @click=${() => void this.#export()}>Export as JSON</button>
        ${
          this._confirmErase
            ? html`<button class="danger" id="sub-erase-confirm" @click=${() => void this.#erase()}>
                  Yes, erase ${this.userId} everywhere</button
                ><button class="quiet" @click=${() => (this._confirmErase = false)}>Cancel</button>`
            : html`<button class="quiet" id="sub-erase" @click=${() => (this._confirmErase = true)}>
                Erase…
              </button>`
        }
      </div>`;
  }
}

customElements.define('herald-subscriber-page', SubscriberPage);
