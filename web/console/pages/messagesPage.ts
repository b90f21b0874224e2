import { html } from 'lit';
import { DELIVERY_STATUSES } from '../../../src/delivery/statuses';
import { Channel } from '../../../src/generated/prisma/enums';
import { api, enc, qs } from '../api';
import { ListPage } from '../listPage';
import { when } from '../page';

interface DeliveryRow {
  id: string;
  messageId: string;
  channel: string;
  userId: string | null;
  email: string | null;
  templateCode: string;
  status: string;
  attempts: number;
  reason: string | null;
  createdAt: string;
}

const FILTERS = ['template', 'userId', 'email', 'status', 'channel', 'from', 'to'] as const;
/** The database's channel enum, which the sender registry must match (src/senders/registry.ts). */
const CHANNELS = Object.values(Channel);

/** Search deliveries by template, user, address, status, channel and time; a message id opens its page. */
class MessagesPage extends ListPage<DeliveryRow> {
  #query: Record<string, string | undefined> = {};

  protected override fetchPage(cursor?: string) {
    return api<{ items: DeliveryRow[]; nextCursor: string | null }>(
      'GET',
      `/v1/deliveries${qs({ ...this.#query, limit: '50', cursor })}`,
    );
  }

  #submit(e: Event): void {
    e.preventDefault();
    const id = this.field('m-id');
    if (id) {
      location.hash = `#/messages/${enc(id)}`;
      return;
    }
    const q: Record<string, string | undefined> = {};
    for (const f of FILTERS) {
      const v = this.field(`m-${f}`);
      q[f] = !v ? undefined : f === 'from' || f === 'to' ? new Date(v).toISOString() : v;
    }
    this.#query = q;
    this._message = undefined;
    void this.load();
  }

  protected override render() {
    return html`<h1>Messages and deliveries</h1>
      <form class="filters" @submit=${(e: Event) => this.#submit(e)}>
        <input id="m-id" placeholder="message id" />
        <input id="m-template" placeholder="template" />
        <input id="m-userId" placeholder="user id" />
        <input id="m-email" placeholder="email" />
        <select id="m-status">
          <option value="">any status</option>
          ${DELIVERY_STATUSES.map((s) => html`<option>${s}</option>`)}
        </select>
        <select id="m-channel">
          <option value="">any channel</option>
          ${CHANNELS.map((c) => html`<option>${c}</option>`)}
        </select>
        <label>from <input id="m-from" type="datetime-local" /></label>
        <label>to <input id="m-to" type="datetime-local" /></label>
        <button type="submit">Search</button>
      </form>
      ${this.notice()}
      ${this.table(
        ['Created', 'Message', 'Template', 'Channel', 'To', 'Status', 'Attempts', 'Reason'],
        (d) =>
          html`<tr>
            <td>${when(d.createdAt)}</td>
            <td><a href="#/messages/${enc(d.messageId)}">${d.messageId}</a></td>
            <td>${d.templateCode}</td>
            <td>${d.channel}</td>
            <td>${d.email ?? d.userId ?? ''}</td>
            <td><span class="status ${d.status}">${d.status}</span></td>
            <td>${d.attempts}</td>
            <td>${d.reason ?? ''}</td>
          </tr>`,
        'No deliveries match.',
      )}`;
  }
}

customElements.define('herald-messages-page', MessagesPage);
