import { html, nothing } from 'lit';
import { AUDIT_TARGET_TYPES } from '../../../src/audit/auditTypes';
import { api, qs } from '../api';
import { ListPage } from '../listPage';
import { when } from '../page';

interface AuditEvent {
  id: string;
  at: string;
  actor: { id: string; name: string };
  action: string;
  target: { type: string; id: string };
  before: unknown;
  after: unknown;
  detail: unknown;
  requestId: string | null;
}

const json = (v: unknown) => (v === null || v === undefined ? '—' : JSON.stringify(v, null, 2));

/** The audit log, newest first: who changed what and when, filtered by actor and target; before and after. */
class AuditPage extends ListPage<AuditEvent> {
  #query: Record<string, string | undefined> = {};

  protected override fetchPage(cursor?: string) {
    return api<{ items: AuditEvent[]; nextCursor: string | null }>(
      'GET',
      `/v1/audit${qs({ ...this.#query, limit: '100', cursor })}`,
    );
  }

  #filter(e: Event): void {
    e.preventDefault();
    const v = (id: string) => this.field(`au-${id}`) || undefined;
    this.#query = { actor: v('actor'), targetType: v('type'), targetId: v('target') };
    this._message = undefined;
    void this.load();
  }

  protected override render() {
    return html`<h1>Audit log</h1>
      <form class="filters" @submit=${(e: Event) => this.#filter(e)}>
        <input id="au-actor" placeholder="actor id (key id, bootstrap:0, cli:…)" />
        <select id="au-type">
          <option value="">any target</option>
          ${AUDIT_TARGET_TYPES.map((t) => html`<option>${t}</option>`)}
        </select>
        <input id="au-target" placeholder="target id" />
        <button type="submit">Filter</button>
      </form>
      ${this.notice()}
      ${this.table(
        ['When', 'Who', 'Action', 'Target', 'Request', ''],
        (a) =>
          html`<tr data-audit=${a.id}>
              <td>${when(a.at)}</td>
              <td>${a.actor.name} <span class="meta">${a.actor.id}</span></td>
              <td><code>${a.action}</code></td>
              <td>${a.target.type} <code>${a.target.id}</code></td>
              <td class="meta">${a.requestId ?? ''}</td>
              <td><button class="quiet" @click=${() => this.toggle(a.id)}>Details</button></td>
            </tr>
            ${this.details(
              a.id,
              6,
              () =>
                html`<table class="diff">
                    <thead>
                      <tr>
                        <th>before</th>
                        <th>after</th>
                      </tr>
                    </thead>
                    <tbody>
                      <tr>
                        <td><pre>${json(a.before)}</pre></td>
                        <td><pre>${json(a.after)}</pre></td>
                      </tr>
                    </tbody>
                  </table>
                  ${a.detail ? html`<pre>${json(a.detail)}</pre>` : nothing}`,
            )}`,
        'No audit events.',
        'audit',
      )}`;
  }
}

customElements.define('herald-audit-page', AuditPage);
