import { html, nothing } from 'lit';
import { api, enc } from '../api';
import { ListPage } from '../listPage';
import { when } from '../page';

interface Account {
  name: string;
  type: string;
  isDefault: boolean;
  secretsSet: string[];
  config: Record<string, unknown>;
  updatedAt: string;
}

/** What POST /v1/channel-accounts/:name/test answers: one real send's outcome. */
interface TestOutcome {
  account: string;
  channel: string;
  outcome: string;
  code: string | null;
  message: string | null;
  durationMs: number;
}

const TYPES = ['smtp', 'dingtalk-robot', 'feishu-robot', 'wecom-robot', 'dingtalk-work'];

/**
 * Channel accounts: the public config is edited as JSON; secrets are write-only (typed into their own
 * box, merged into the config on save, never shown: the list says which are stored). "Send a test" sends
 * one real message through the account and shows what came of it.
 */
class AccountsPage extends ListPage<Account> {
  static override properties = {
    _editing: { state: true },
    _testing: { state: true },
    _outcome: { state: true },
  };
  declare _editing: Account | 'new' | undefined;
  /** The account whose test form is shown. */
  declare _testing: Account | undefined;
  declare _outcome: TestOutcome | undefined;

  protected override fetchPage() {
    return api<{ items: Account[] }>('GET', '/v1/channel-accounts?limit=200');
  }

  async #save(e: Event): Promise<void> {
    e.preventDefault();
    const editing = this._editing;
    try {
      const config = JSON.parse(this.field('a-config') || '{}') as Record<string, unknown>;
      const secrets = this.field('a-secrets')
        ? (JSON.parse(this.field('a-secrets')) as Record<string, unknown>)
        : {};
      const body = {
        type: this.field('a-type'),
        config: { ...config, ...secrets },
        ...(this.checked('#a-default') ? { isDefault: true } : {}),
      };
      const saved = await this.act('Saved.', () =>
        editing === 'new'
          ? api('POST', '/v1/channel-accounts', { name: this.field('a-name'), ...body })
          : api('PUT', `/v1/channel-accounts/${enc(editing?.name ?? '')}`, body),
      );
      if (saved) this._editing = undefined;
    } catch (err) {
      this.fail(err); // the JSON did not parse
    }
  }

  async #test(e: Event, a: Account): Promise<void> {
    e.preventDefault();
    const email = this.field('t-email');
    this._outcome = undefined;
    try {
      this._outcome = await api<TestOutcome>(
        'POST',
        `/v1/channel-accounts/${enc(a.name)}/test`,
        email ? { to: { email } } : {},
      );
    } catch (err) {
      this.fail(err);
    }
  }

  #form() {
    const a = this._editing === 'new' ? undefined : this._editing;
    return html`<form class="account-form" @submit=${(e: Event) => void this.#save(e)}>
      <h2>${a ? `Edit ${a.name}` : 'New account'}</h2>
      ${a ? nothing : html`<label for="a-name">name</label><input id="a-name" />`}
      <label for="a-type">type</label>
      <select id="a-type">
        ${TYPES.map((t) => html`<option ?selected=${a?.type === t}>${t}</option>`)}
      </select>
      <label for="a-config">config (JSON, without secrets)</label>
      <textarea id="a-config" rows="6" .value=${JSON.stringify(a?.config ?? {}, null, 2)}></textarea>
      <label for="a-secrets">secrets (JSON, write-only; leave empty to keep the stored ones)</label>
      <textarea id="a-secrets" rows="2" placeholder='{"password": "…"}'></textarea>
      <p class="meta">Stored secrets: ${a?.secretsSet.length ? a.secretsSet.join(', ') : 'none'}</p>
      <label class="inline"
        ><input id="a-default" type="checkbox" ?checked=${a?.isDefault ?? false} /> default for its
        type</label
      >
      <div class="actions">
        <button type="submit">Save</button>
        <button type="button" class="quiet" @click=${() => (this._editing = undefined)}>Cancel</button>
      </div>
    </form>`;
  }

  #testForm(a: Account) {
    const o = this._outcome;
    return html`<form class="account-test" @submit=${(e: Event) => void this.#test(e, a)}>
      <h2>Send a test through ${a.name}</h2>
      ${
        a.type === 'smtp'
          ? html`<label for="t-email">to (email)</label><input id="t-email" type="email" />`
          : html`<p class="meta">Posts one test message to the group the robot belongs to.</p>`
      }
      <div class="actions">
        <button type="submit" id="t-send">Send the test</button>
        <button type="button" class="quiet" @click=${() => (this._testing = undefined)}>Close</button>
      </div>
      ${
        o
          ? html`<p class="test-outcome ${o.outcome === 'sent' ? 'ok' : 'error'}" role="status">
              ${o.outcome}${o.code ? html` <code>${o.code}</code>` : nothing}${o.message ? `: ${o.message}` : ''}
              <span class="meta">(${o.channel}, ${Math.round(o.durationMs)} ms)</span>
            </p>`
          : nothing
      }
    </form>`;
  }

  protected override render() {
    return html`<h1>Channel accounts</h1>
      ${this.notice()}
      <div class="toolbar"><button @click=${() => (this._editing = 'new')}>New account</button></div>
      ${this._editing ? this.#form() : nothing} ${this._testing ? this.#testForm(this._testing) : nothing}
      ${this.table(
        ['Name', 'Type', 'Default', 'Secrets stored', 'Updated', ''],
        (a) =>
          html`<tr data-account=${a.name}>
            <td>${a.name}</td>
            <td>${a.type}</td>
            <td>${a.isDefault ? 'yes' : ''}</td>
            <td>${a.secretsSet.join(', ') || 'none'}</td>
            <td>${when(a.updatedAt)}</td>
            <td class="row-actions">
              <button class="quiet edit" @click=${() => (this._editing = a)}>Edit</button>
              <button
                class="quiet test"
                @click=${() => {
                  this._testing = a;
                  this._outcome = undefined;
                }}
              >
                Send a test…
              </button>
            </td>
          </tr>`,
        'No channel accounts.',
      )}`;
  }
}

customElements.define('herald-accounts-page', AccountsPage);
