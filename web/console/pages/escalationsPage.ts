import { html, nothing } from 'lit';
import { ESCALATION_STATES, FALLBACK_STATES } from '../../../src/delivery/statuses';
import { api, enc, qs } from '../api';
import { ListPage } from '../listPage';
import { when } from '../page';

interface Escalation {
  messageId: string;
  templateCode: string;
  messageStatus: string;
  escalation: {
    after: string;
    unless: string;
    channels: string[];
    watching: string | null;
    dueAt: string | null;
    attempts: number;
    lastError: string | null;
    state: string;
  } | null;
  fallback: { channels: string[]; state: string } | null;
  deliveries: Array<{
    id: string;
    channel: string;
    userId: string | null;
    status: string;
    cause: string | null;
  }>;
  createdAt: string;
}

const FILTERS = ['template', 'userId', 'state'] as const;

/** What a follow-up waits for, as a person says it: "im not read within 30m → mail". */
function rule(e: Escalation) {
  const parts: string[] = [];
  const x = e.escalation;
  if (x)
    parts.push(
      `${x.watching ?? 'first channel'} not ${x.unless} within ${x.after} → ${x.channels.join(', ')}`,
    );
  if (e.fallback) parts.push(`a channel fails for good → ${e.fallback.channels.join(', ')}`);
  return parts.join('; ');
}

/**
 * Escalations and fallbacks (GET /v1/escalations): each message whose template sends more channels later,
 * what it waits for and when the check is due, what it came to, and its deliveries with their causes.
 */
class EscalationsPage extends ListPage<Escalation> {
  #query: Record<string, string | undefined> = {};

  protected override fetchPage(cursor?: string) {
    return api<{ items: Escalation[]; nextCursor: string | null }>(
      'GET',
      `/v1/escalations${qs({ ...this.#query, limit: '50', cursor })}`,
    );
  }

  #submit(e: Event): void {
    e.preventDefault();
    this.#query = Object.fromEntries(FILTERS.map((f) => [f, this.field(`es-${f}`) || undefined]));
    this._message = undefined;
    void this.load();
  }

  protected override render() {
    return html`<h1>Escalations and fallbacks</h1>
      <form class="filters" @submit=${(e: Event) => this.#submit(e)}>
        <input id="es-template" placeholder="template" />
        <input id="es-userId" placeholder="user id" />
        <select id="es-state">
          <option value="">any state</option>
          <optgroup label="escalation">${ESCALATION_STATES.map((s) => html`<option>${s}</option>`)}</optgroup>
          <optgroup label="fallback">${FALLBACK_STATES.map((s) => html`<option>${s}</option>`)}</optgroup>
        </select>
        <button type="submit">Search</button>
        <button type="button" class="quiet" id="es-refresh" @click=${() => void this.load()}>Refresh</button>
      </form>
      ${this.notice()}
      ${this.table(
        ['Accepted', 'Message', 'Template', 'Waits for', 'Due', 'Escalation', 'Fallback', 'Deliveries'],
        (e) =>
          html`<tr data-escalation=${e.messageId}>
            <td>${when(e.createdAt)}</td>
            <td><a href="#/messages/${enc(e.messageId)}">${e.messageId}</a></td>
            <td>${e.templateCode}</td>
            <td class="rule">${rule(e)}</td>
            <td class="due">
              ${when(e.escalation?.dueAt)}
              ${
                e.escalation?.lastError
                  ? html`<br /><span class="error"
                        >try ${e.escalation.attempts}: ${e.escalation.lastError}</span
                      >`
                  : nothing
              }
            </td>
            <td class="escalation-state">
              ${e.escalation ? html`<span class="status ${e.escalation.state}">${e.escalation.state}</span>` : '—'}
            </td>
            <td class="fallback-state">
              ${e.fallback ? html`<span class="status ${e.fallback.state}">${e.fallback.state}</span>` : '—'}
            </td>
            <td class="deliveries">
              ${e.deliveries.map(
                (d) =>
                  html`<div data-channel=${d.channel} title=${d.cause ?? ''}>
                    ${d.channel}${d.userId ? ` (${d.userId})` : ''}:
                    <span class="status ${d.status}">${d.status}</span
                    >${d.cause ? html` <em>${d.cause}</em>` : nothing}
                  </div>`,
              )}
            </td>
          </tr>`,
        'No messages with an escalation or a fallback match.',
      )}`;
  }
}

customElements.define('herald-escalations-page', EscalationsPage);
