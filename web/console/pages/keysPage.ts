import { html, nothing } from 'lit';
import { api, enc } from '../api';
import { ListPage } from '../listPage';
import { when } from '../page';

interface ApiKey {
  id: string;
  name: string;
  scopes: string[];
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

const SCOPES = ['publish', 'read', 'admin'] as const;

/** Scoped API keys: create (the key is shown once, in this page only), list, revoke after a confirmation. */
class KeysPage extends ListPage<ApiKey> {
  static override properties = { _created: { state: true } };
  declare _created: { name: string; key: string } | undefined;

  protected override fetchPage() {
    return api<{ items: ApiKey[] }>('GET', '/v1/keys?limit=200');
  }

  async #create(e: Event): Promise<void> {
    e.preventDefault();
    const scopes = SCOPES.filter((s) => this.checked(`#k-scope-${s}`));
    try {
      const created = await api<ApiKey & { key: string }>('POST', '/v1/keys', {
        name: this.field('k-name'),
        scopes,
      });
      this._created = { name: created.name, key: created.key };
      this._message = undefined;
      await this.load();
    } catch (err) {
      this.fail(err);
    }
  }

  protected override render() {
    return html`<h1>API keys</h1>
      ${this.notice()}
      <form class="toolbar" @submit=${(e: Event) => void this.#create(e)}>
        <input id="k-name" placeholder="what it is for (e.g. orders-service)" />
        ${SCOPES.map(
          (s) =>
            html`<label class="inline"
              ><input type="checkbox" id="k-scope-${s}" ?checked=${s === 'publish'} />${s}</label
            >`,
        )}
        <button type="submit">Create key</button>
      </form>
      ${
        this._created
          ? html`<div class="created" role="status">
              <p>
                The key for <strong>${this._created.name}</strong>, shown this once (Herald keeps only its
                hash):
              </p>
              <pre id="new-key">${this._created.key}</pre>
              <button class="quiet" @click=${() => (this._created = undefined)}>I have stored it</button>
            </div>`
          : nothing
      }
      ${this.table(
        ['Name', 'Scopes', 'Created', 'Last used', 'Revoked', ''],
        (k) =>
          html`<tr data-key=${k.id}>
            <td>${k.name}</td>
            <td>${k.scopes.join(', ')}</td>
            <td>${when(k.createdAt)}</td>
            <td>${when(k.lastUsedAt)}</td>
            <td class="revoked">${k.revokedAt ? when(k.revokedAt) : 'no'}</td>
            <td>
              ${
                k.revokedAt
                  ? nothing
                  : this.confirm(k.id, 'revoke', { ask: 'Revoke…', yes: 'Yes, revoke' }, () =>
                      this.act('Revoked on every instance.', () => api('DELETE', `/v1/keys/${enc(k.id)}`)),
                    )
              }
            </td>
          </tr>`,
        'No API keys.',
      )}`;
  }
}

customElements.define('herald-keys-page', KeysPage);
