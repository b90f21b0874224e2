import { html } from 'lit';
import { api, qs } from '../api';
import { errorText, Page, when } from '../page';

interface Summary {
  code: string;
  name: string;
  status: string;
  currentVersion: number;
  channels: string[];
  updatedAt: string;
}

class TemplatesPage extends Page {
  static override properties = {
    _items: { state: true },
    _search: { state: true },
    _status: { state: true },
    _error: { state: true },
  };
  declare _items: Summary[];
  declare _search: string;
  declare _status: string;
  declare _error: string | undefined;

  constructor() {
    super();
    this._items = [];
    this._search = '';
    this._status = 'active';
  }

  override connectedCallback(): void {
    super.connectedCallback();
    void this.#load();
  }

  async #load(): Promise<void> {
    try {
      const all: Summary[] = [];
      let cursor: string | undefined;
      do {
        const page = await api<{ items: Summary[]; nextCursor: string | null }>(
          'GET',
          `/v1/templates${qs({ limit: '200', cursor, status: this._status || undefined })}`,
        );
        all.push(...page.items);
        cursor = page.nextCursor ?? undefined;
      } while (cursor && all.length < 2000);
      this._items = all;
      this._error = undefined;
    } catch (err) {
      this._error = errorText(err);
    }
  }

  protected override render() {
    const q = this._search.toLowerCase();
    const shown = this._items.filter(
      (t) => !q || t.code.toLowerCase().includes(q) || t.name.toLowerCase().includes(q),
    );
    return html`<h1>Templates</h1>
      <div class="toolbar">
        <input
          id="template-search"
          type="search"
          placeholder="Search code or name"
          .value=${this._search}
          @input=${(e: Event) => (this._search = (e.target as HTMLInputElement).value)}
        />
        <select
          id="template-status"
          @change=${(e: Event) => {
            this._status = (e.target as HTMLSelectElement).value;
            void this.#load();
          }}
        >
          <option value="active">active</option>
          <option value="archived">archived</option>
          <option value="">all</option>
        </select>
        <a class="button" href="#/templates/new" id="new-template">New template</a>
      </div>
      ${this._error ? html`<p class="error" role="alert">${this._error}</p>` : ''}
      <table>
        <thead>
          <tr>
            <th>Code</th>
            <th>Name</th>
            <th>Channels</th>
            <th>Version</th>
            <th>Status</th>
            <th>Updated</th>
          </tr>
        </thead>
        <tbody>
          ${shown.map(
            (t) =>
              html`<tr>
                <td><a href="#/templates/${encodeURIComponent(t.code)}">${t.code}</a></td>
                <td>${t.name}</td>
                <td>${t.channels.join(', ')}</td>
                <td>${t.currentVersion}</td>
                <td>${t.status}</td>
                <td>${when(t.updatedAt)}</td>
              </tr>`,
          )}
        </tbody>
      </table>
      ${shown.length === 0 ? html`<p class="empty">No templates${q ? ' match' : ''}.</p>` : ''}`;
  }
}

customElements.define('herald-templates-page', TemplatesPage);
