import { html } from 'lit';
import type { Severity } from '../../client/types';
import { api, enc } from '../api';
import { ListPage } from '../listPage';

interface Tab {
  name: string;
  filter: { category?: string; tags?: string[]; severity?: Severity[] };
}

const SEVERITIES: readonly Severity[] = ['low', 'normal', 'high', 'critical'];

const filterText = (f: Tab['filter']): string =>
  [
    f.category && `category ${f.category}`,
    f.tags && `tags ${f.tags.join(', ')}`,
    f.severity && `severity ${f.severity.join(', ')}`,
  ]
    .filter(Boolean)
    .join('; ') || 'everything';

/**
 * Declared inbox tabs: a name and a filter whose unread and unseen counts Herald keeps for every user
 * (the component shows them as tabs). Declaring an existing name changes its filter and recounts.
 */
class InboxTabsPage extends ListPage<Tab> {
  protected override fetchPage() {
    return api<{ items: Tab[] }>('GET', '/v1/inbox/tabs');
  }

  #declare(e: Event): void {
    e.preventDefault();
    const name = this.field('tab-name');
    const tags = this.field('tab-tags')
      .split(',')
      .map((t) => t.trim())
      .filter(Boolean);
    const severity = SEVERITIES.filter((s) => this.checked(`#tab-sev-${s}`));
    const filter = {
      ...(this.field('tab-category') ? { category: this.field('tab-category') } : {}),
      ...(tags.length ? { tags } : {}),
      ...(severity.length ? { severity } : {}),
    };
    void this.act(`Declared ${name}.`, () => api('PUT', `/v1/inbox/tabs/${enc(name)}`, { filter }));
  }

  protected override render() {
    return html`<h1>Inbox tabs</h1>
      <form class="toolbar" @submit=${(e: Event) => this.#declare(e)}>
        <input id="tab-name" placeholder="name (e.g. billing)" />
        <input id="tab-category" placeholder="category" />
        <input id="tab-tags" placeholder="tags (comma-separated, any of)" />
        ${SEVERITIES.map(
          (s) => html`<label class="inline"><input type="checkbox" id="tab-sev-${s}" />${s}</label>`,
        )}
        <button type="submit">Declare tab</button>
      </form>
      ${this.notice()}
      ${this.table(
        ['Name', 'Filter', ''],
        (t) =>
          html`<tr data-tab=${t.name}>
            <td>${t.name}</td>
            <td class="filter">${filterText(t.filter)}</td>
            <td>
              ${this.confirm(t.name, 'delete', { ask: 'Delete…', yes: 'Yes, delete' }, () =>
                this.act(`Deleted ${t.name}.`, () => api('DELETE', `/v1/inbox/tabs/${enc(t.name)}`)),
              )}
            </td>
          </tr>`,
        'No tabs are declared: the inbox has one list.',
      )}`;
  }
}

customElements.define('herald-inbox-tabs-page', InboxTabsPage);
