import { html, nothing } from 'lit';
import { EVENT_TYPES } from '../../../src/events/eventTypes';
import { api, enc } from '../api';
import { ListPage } from '../listPage';
import { when } from '../page';

interface Webhook {
  id: string;
  url: string;
  description: string | null;
  events: string[];
  templates: string[];
  enabled: boolean;
  disabledReason: string | null;
  consecutiveFailures: number;
  cursor: number;
  updatedAt: string;
}
interface Attempt {
  id: string;
  eventId: string;
  eventType: string;
  messageId: string | null;
  attempt: number;
  outcome: 'delivered' | 'failed';
  statusCode: number | null;
  error: string | null;
  durationMs: number;
  createdAt: string;
}

/** Status webhooks: create (the signing secret is write-only), pause or resume, delete, and each one's attempts. */
class WebhooksPage extends ListPage<Webhook> {
  static override properties = { _attempts: { state: true } };
  declare _attempts: Attempt[];

  constructor() {
    super();
    this._attempts = [];
  }

  protected override async fetchPage() {
    const page = await api<{ items: Webhook[] }>('GET', '/v1/webhooks');
    if (this._open) await this.#attempts(this._open);
    return page;
  }

  async #attempts(id: string): Promise<void> {
    this._open = id;
    this._attempts = (
      await api<{ items: Attempt[] }>('GET', `/v1/webhooks/${enc(id)}/attempts?limit=100`)
    ).items;
  }

  async #create(e: Event): Promise<void> {
    e.preventDefault();
    const v = (id: string) => this.field(`w-${id}`);
    const events = EVENT_TYPES.filter((ev) => this.checked(`[data-event="${ev}"]`));
    const templates = v('templates')
      .split(',')
      .map((t) => t.trim())
      .filter(Boolean);
    await this.act('Created.', () =>
      api('POST', '/v1/webhooks', { url: v('url'), events, templates, secret: v('secret') }),
    );
  }

  #setEnabled(w: Webhook, enabled: boolean) {
    return this.act(enabled ? 'Resumed.' : 'Paused.', () =>
      api('PUT', `/v1/webhooks/${enc(w.id)}`, {
        url: w.url,
        events: w.events,
        templates: w.templates,
        enabled,
        ...(w.description ? { description: w.description } : {}),
      }),
    );
  }

  protected override render() {
    return html`<h1>Status webhooks</h1>
      ${this.notice()}
      <form class="webhook-form" @submit=${(e: Event) => void this.#create(e)}>
        <div class="toolbar">
          <input id="w-url" placeholder="https://orders.example.com/herald-events" size="40" />
          <input
            id="w-secret"
            type="password"
            placeholder="signing secret (16+ characters, write-only)"
            autocomplete="off"
          />
          <input id="w-templates" placeholder="templates (comma-separated; empty: all)" />
          <button type="submit">Create webhook</button>
        </div>
        <div>
          ${EVENT_TYPES.map(
            (ev) =>
              html`<label class="inline"
                ><input type="checkbox" data-event=${ev} ?checked=${ev.startsWith('delivery.')} />${ev}</label
              >`,
          )}
        </div>
      </form>
      ${this.table(
        ['URL', 'Events', 'State', 'Failures in a row', 'Cursor', ''],
        (w) =>
          html`<tr data-webhook=${w.id}>
            <td>
              <code>${w.url}</code
              >${w.templates.length ? html`<div class="meta">${w.templates.join(', ')}</div>` : nothing}
            </td>
            <td>${w.events.length === EVENT_TYPES.length ? 'all' : w.events.join(', ')}</td>
            <td class="state">
              ${w.enabled ? 'enabled' : `disabled${w.disabledReason ? `: ${w.disabledReason}` : ''}`}
            </td>
            <td>${w.consecutiveFailures}</td>
            <td>${w.cursor}</td>
            <td class="row-actions">
              <button class="quiet attempts" @click=${() => void this.#attempts(w.id)}>Attempts</button>
              <button class="quiet toggle" @click=${() => void this.#setEnabled(w, !w.enabled)}>
                ${w.enabled ? 'Pause' : 'Resume'}
              </button>
              ${this.confirm(w.id, 'delete', { ask: 'Delete…', yes: 'Yes, delete' }, () =>
                this.act('Deleted.', () => api('DELETE', `/v1/webhooks/${enc(w.id)}`)),
              )}
            </td>
          </tr>`,
        'No status webhooks.',
      )}
      ${
        this._open
          ? html`<h2>Attempts</h2>
              <button class="quiet" @click=${() => void this.load()}>Refresh</button>
              <table class="webhook-attempts">
                <thead>
                  <tr>
                    <th>When</th>
                    <th>Event</th>
                    <th>Message</th>
                    <th>Attempt</th>
                    <th>Outcome</th>
                    <th>HTTP</th>
                    <th>Duration</th>
                    <th>Error</th>
                  </tr>
                </thead>
                <tbody>
                  ${this._attempts.map(
                    (a) =>
                      html`<tr class="outcome-${a.outcome}">
                        <td>${when(a.createdAt)}</td>
                        <td>${a.eventType}</td>
                        <td>
                          ${a.messageId ? html`<a href="#/messages/${enc(a.messageId)}">${a.messageId}</a>` : '—'}
                        </td>
                        <td>${a.attempt}</td>
                        <td>${a.outcome}</td>
                        <td>${a.statusCode ?? '—'}</td>
                        <td>${a.durationMs} ms</td>
                        <td>${a.error ?? ''}</td>
                      </tr>`,
                  )}
                </tbody>
              </table>
              ${this._attempts.length === 0 ? html`<p class="empty">No attempts yet.</p>` : nothing}`
          : nothing
      }`;
  }
}

customElements.define('herald-webhooks-page', WebhooksPage);
