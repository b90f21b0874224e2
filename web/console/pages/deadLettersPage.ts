import { html, nothing } from 'lit';
import { api, enc, qs } from '../api';
import { ListPage } from '../listPage';
import { when } from '../page';

interface DeadLetter {
  id: string;
  messageId: string | null;
  routingKey: string | null;
  code: string;
  reason: string;
  payload: string;
  payloadEncoding: 'utf8' | 'base64';
  createdAt: string;
  replayedAt: string | null;
}

function payloadText(d: DeadLetter): string {
  if (d.payloadEncoding === 'base64') return `(binary, base64) ${d.payload}`;
  try {
    return JSON.stringify(JSON.parse(d.payload), null, 2);
  } catch {
    return d.payload;
  }
}

/** Dead letters with their reasons: inspect the envelope, replay, delete, purge all (after a confirmation). */
class DeadLettersPage extends ListPage<DeadLetter> {
  protected override fetchPage() {
    return api<{ items: DeadLetter[] }>('GET', `/v1/dead-letters${qs({ limit: '200' })}`);
  }

  protected override render() {
    const pending = this._items.filter((d) => !d.replayedAt).length;
    return html`<h1>Dead letters</h1>
      ${this.notice()}
      <div class="toolbar">
        <span>${this._items.length} listed, ${pending} not replayed</span>
        <button class="quiet" id="dl-refresh" @click=${() => void this.load()}>Refresh</button>
        ${
          this._items.length === 0
            ? nothing
            : this.confirm(
                'purge',
                'purge',
                { ask: 'Purge all…', yes: 'Yes, delete every dead letter' },
                () => this.act('Purged.', () => api('DELETE', '/v1/dead-letters?confirm=yes')),
              )
        }
      </div>
      ${this.table(
        ['Recorded', 'Code', 'Reason', 'Message', 'Replayed', ''],
        (d) =>
          html`<tr data-dead-letter=${d.id}>
              <td>${when(d.createdAt)}</td>
              <td><code>${d.code}</code></td>
              <td>${d.reason}</td>
              <td>
                ${d.messageId ? html`<a href="#/messages/${enc(d.messageId)}">${d.messageId}</a>` : '—'}
              </td>
              <td>${d.replayedAt ? when(d.replayedAt) : 'no'}</td>
              <td class="row-actions">
                <button class="quiet inspect" @click=${() => this.toggle(d.id)}>Inspect</button>
                <button
                  class="replay"
                  ?disabled=${d.replayedAt !== null}
                  @click=${() =>
                    void this.act('Replayed.', () => api('POST', `/v1/dead-letters/${enc(d.id)}/replay`))}
                >
                  Replay
                </button>
                <button
                  class="quiet"
                  @click=${() => void this.act('Deleted.', () => api('DELETE', `/v1/dead-letters/${enc(d.id)}`))}
                >
                  Delete
                </button>
              </td>
            </tr>
            ${this.details(
              d.id,
              6,
              () =>
                html`<pre>${payloadText(d)}</pre>
                  <p class="meta">routing key ${d.routingKey ?? '—'}</p>`,
            )}`,
        'No dead letters.',
      )}`;
  }
}

customElements.define('herald-dead-letters-page', DeadLettersPage);
