import { html } from 'lit';
import { api, enc, qs } from '../api';
import { ListPage } from '../listPage';
import { when } from '../page';

interface Scheduled {
  id: string;
  templateCode: string | null;
  status: string;
  sendAt: string | null;
  createdAt: string;
}

/** Messages waiting for their `sendAt`, in the order they are due; each can be cancelled. */
class ScheduledPage extends ListPage<Scheduled> {
  protected override fetchPage(cursor?: string) {
    return api<{ items: Scheduled[]; nextCursor: string | null }>(
      'GET',
      `/v1/messages${qs({ status: 'scheduled', limit: '100', cursor })}`,
    );
  }

  protected override render() {
    return html`<h1>Scheduled messages</h1>
      ${this.notice()}
      ${this.table(
        ['Due', 'Message', 'Template', 'Accepted', ''],
        (m) =>
          html`<tr data-message=${m.id}>
            <td>${when(m.sendAt)}</td>
            <td><a href="#/messages/${enc(m.id)}">${m.id}</a></td>
            <td>${m.templateCode ?? '—'}</td>
            <td>${when(m.createdAt)}</td>
            <td>
              <button
                class="quiet cancel"
                @click=${() =>
                  void this.act(`Cancelled ${m.id}.`, () =>
                    api('POST', `/v1/messages/${enc(m.id)}/cancel`, { by: 'console' }),
                  )}
              >
                Cancel
              </button>
            </td>
          </tr>`,
        'Nothing is scheduled.',
      )}`;
  }
}

customElements.define('herald-scheduled-page', ScheduledPage);
