import { html, nothing } from 'lit';
import { DIGEST_STATES } from '../../../src/delivery/statuses';
import { api, enc, qs } from '../api';
import { ListPage } from '../listPage';
import { errorText, when } from '../page';

interface Digest {
  id: string;
  kind: 'window' | 'rate_limit';
  templateCode: string;
  scope: string;
  userId: string | null;
  email: string | null;
  recipients: number;
  key: string;
  channels: string[];
  closesAt: string;
  dueAt: string | null;
  closedAt: string | null;
  events: number;
  state: string;
  message: {
    id: string;
    status: string;
    deliveries: Array<{ channel: string; status: string; count: number }>;
  } | null;
}

interface Collected {
  id: string;
  messageId: string;
  channel: string;
  userId: string | null;
  status: string;
  createdAt: string;
}

const FILTERS = ['template', 'userId', 'state'] as const;

/** Who a digest goes to: its user or address, or the group channel's one post. */
const audience = (d: Digest): string =>
  d.scope === 'recipient'
    ? (d.userId ?? d.email ?? `${d.recipients} recipient`)
    : `${d.scope} group post (${d.recipients} mentioned)`;

/**
 * Digest windows (GET /v1/digests): the open ones with what they collected so far and when they flush,
 * the flushed ones with what their digest message sent; a row opens the deliveries it collected.
 */
class DigestsPage extends ListPage<Digest> {
  static override properties = { ...ListPage.properties, _collected: { state: true } };
  declare _collected: Map<string, Collected[] | string>;
  #query: Record<string, string | undefined> = {};

  constructor() {
    super();
    this._collected = new Map();
  }

  protected override fetchPage(cursor?: string) {
    return api<{ items: Digest[]; nextCursor: string | null }>(
      'GET',
      `/v1/digests${qs({ ...this.#query, limit: '50', cursor })}`,
    );
  }

  #submit(e: Event): void {
    e.preventDefault();
    this.#query = Object.fromEntries(FILTERS.map((f) => [f, this.field(`dg-${f}`) || undefined]));
    this._message = undefined;
    void this.load();
  }

  async #open(d: Digest): Promise<void> {
    this.toggle(d.id);
    if (this._open !== d.id) return;
    try {
      const detail = await api<{ collected: Collected[] }>('GET', `/v1/digests/${enc(d.id)}`);
      this._collected = new Map(this._collected).set(d.id, detail.collected);
    } catch (err) {
      this._collected = new Map(this._collected).set(d.id, errorText(err));
    }
  }

  #collected(d: Digest) {
    const c = this._collected.get(d.id);
    if (c === undefined) return html`<p class="meta">Loading…</p>`;
    if (typeof c === 'string') return html`<p class="error" role="alert">${c}</p>`;
    return html`<table class="collected">
      <thead>
        <tr>
          <th>Collected</th>
          <th>Message</th>
          <th>Channel</th>
          <th>User</th>
          <th>Status</th>
        </tr>
      </thead>
      <tbody>
        ${c.map(
          (x) =>
            html`<tr data-collected=${x.messageId}>
              <td>${when(x.createdAt)}</td>
              <td><a href="#/messages/${enc(x.messageId)}">${x.messageId}</a></td>
              <td>${x.channel}</td>
              <td>${x.userId ?? '—'}</td>
              <td><span class="status ${x.status}">${x.status}</span></td>
            </tr>`,
        )}
      </tbody>
    </table>`;
  }

  #outcome(d: Digest) {
    if (!d.message) return d.dueAt ? html`flushes ${when(d.dueAt)}` : '—';
    return html`<a href="#/messages/${enc(d.message.id)}"
        ><span class="status ${d.message.status}">${d.message.status}</span></a
      >
      ${d.message.deliveries.map((x) => html` ${x.channel} ${x.status}${x.count > 1 ? ` ×${x.count}` : ''}`)}`;
  }

  protected override render() {
    return html`<h1>Digests</h1>
      <form class="filters" @submit=${(e: Event) => this.#submit(e)}>
        <input id="dg-template" placeholder="template" />
        <input id="dg-userId" placeholder="user id" />
        <select id="dg-state">
          <option value="">any state</option>
          ${DIGEST_STATES.map((s) => html`<option>${s}</option>`)}
        </select>
        <button type="submit">Search</button>
        <button type="button" class="quiet" id="dg-refresh" @click=${() => void this.load()}>Refresh</button>
      </form>
      ${this.notice()}
      ${this.table(
        ['Window ends', 'Template', 'For', 'Key', 'Channels', 'Events', 'State', 'Flush / outcome', ''],
        (d) =>
          html`<tr data-digest=${d.id}>
              <td>${when(d.closesAt)}</td>
              <td>${d.templateCode}${d.kind === 'rate_limit' ? html` <em>(rate limit)</em>` : nothing}</td>
              <td class="for">${audience(d)}</td>
              <td>${d.key || '—'}</td>
              <td>${d.channels.join(', ')}</td>
              <td class="events">${d.events}</td>
              <td class="state"><span class="status ${d.state}">${d.state}</span></td>
              <td class="outcome">${this.#outcome(d)}</td>
              <td><button class="quiet items" @click=${() => void this.#open(d)}>Items</button></td>
            </tr>
            ${this.details(d.id, 9, () => this.#collected(d))}`,
        'No digest windows match.',
      )}`;
  }
}

customElements.define('herald-digests-page', DigestsPage);
