import { html, nothing } from 'lit';
import { TERMINAL, type DeliveryStatus } from '../../../src/delivery/statuses';
import { api, enc } from '../api';
import { errorText, Page, when } from '../page';

interface Attempt {
  id: string;
  attempt: number;
  outcome: string;
  providerId: string | null;
  errorCode: string | null;
  errorText: string | null;
  durationMs: number;
  createdAt: string;
}
interface Delivery {
  id: string;
  channel: string;
  userId: string | null;
  email: string | null;
  status: string;
  attempts: number;
  reason: string | null;
  nextAttemptAt: string | null;
  attemptLog: Attempt[];
}
interface Message {
  id: string;
  templateCode: string | null;
  templateVersion: number | null;
  status: string;
  reason: string | null;
  source: string | null;
  sendAt: string | null;
  createdAt: string;
  deliveries: Delivery[];
}

interface TimelineEntry {
  at: string;
  source: string;
  type: string;
  channel: string | null;
  summary: string;
  durationMs: number | null;
}

const FINAL = new Set(['completed', 'partially_failed', 'failed', 'rejected', 'cancelled']);

/** One message: each delivery with its timeline of attempts; refreshes until the message is finished. */
class MessagePage extends Page {
  static override properties = {
    messageId: { attribute: false },
    _m: { state: true },
    _timeline: { state: true },
    _error: { state: true },
  };
  declare _timeline: TimelineEntry[] | undefined;
  declare messageId: string;
  declare _m: Message | undefined;
  declare _error: string | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;

  override connectedCallback(): void {
    super.connectedCallback();
    void this.#load();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    clearTimeout(this.#timer);
  }

  async #load(): Promise<void> {
    clearTimeout(this.#timer);
    try {
      this._m = await api<Message>('GET', `/v1/messages/${enc(this.messageId)}`);
      this._timeline = (
        await api<{ entries: TimelineEntry[] }>('GET', `/v1/messages/${enc(this.messageId)}/timeline`)
      ).entries;
      this._error = undefined;
    } catch (err) {
      this._error = errorText(err);
    }
    const pending =
      !this._m ||
      !FINAL.has(this._m.status) ||
      this._m.deliveries.some((d) => !TERMINAL.has(d.status as DeliveryStatus));
    if (pending && this.isConnected) this.#timer = setTimeout(() => void this.#load(), 1000);
  }

  async #retry(id: string): Promise<void> {
    try {
      await api('POST', `/v1/deliveries/${enc(id)}/retry`);
      await this.#load();
    } catch (err) {
      this._error = errorText(err);
    }
  }

  protected override render() {
    const m = this._m;
    return html`<h1>Message <code>${this.messageId}</code></h1>
      ${this._error ? html`<p class="error" role="alert">${this._error}</p>` : nothing}
      ${
        m
          ? html`<p class="meta">
                <span class="status ${m.status}" id="message-status">${m.status}</span>
                · template ${m.templateCode ?? '—'}${m.templateVersion ? ` v${m.templateVersion}` : ''} ·
                created ${when(m.createdAt)}${m.sendAt ? ` · send at ${when(m.sendAt)}` : ''}
                ${m.source ? ` · from ${m.source}` : ''}
              </p>
              ${m.reason ? html`<p class="error">${m.reason}</p>` : nothing}
              ${m.deliveries.map(
                (d) =>
                  html`<section class="delivery" data-delivery=${d.id} data-channel=${d.channel}>
                    <h2>
                      ${d.channel} → ${d.email ?? d.userId ?? '—'}
                      <span class="status ${d.status}" data-role="delivery-status">${d.status}</span>
                    </h2>
                    ${d.reason ? html`<p class="error">${d.reason}</p>` : nothing}
                    ${
                      d.nextAttemptAt
                        ? html`<p class="meta">
                            ${d.status === 'deferred' ? 'quiet hours: sent at' : 'next attempt'}
                            ${when(d.nextAttemptAt)}
                          </p>`
                        : nothing
                    }
                    <ol class="timeline">
                      ${d.attemptLog.map(
                        (a) =>
                          html`<li class="outcome-${a.outcome}">
                            <strong>#${a.attempt} ${a.outcome}</strong> · ${when(a.createdAt)} ·
                            ${a.durationMs} ms
                            ${a.providerId ? html` · provider id <code>${a.providerId}</code>` : nothing}
                            ${a.errorCode ? html` · code <code>${a.errorCode}</code>` : nothing}
                            ${a.errorText ? html`<div class="meta">${a.errorText}</div>` : nothing}
                          </li>`,
                      )}
                    </ol>
                    ${
                      d.status === 'failed'
                        ? html`<button class="retry" @click=${() => void this.#retry(d.id)}>
                            Retry this delivery
                          </button>`
                        : nothing
                    }
                  </section>`,
              )}
              ${m.deliveries.length === 0 ? html`<p class="empty">No deliveries (yet).</p>` : nothing}
              <h2>Everything that happened, in order</h2>
              <table class="message-timeline">
                <thead>
                  <tr>
                    <th>When</th>
                    <th>Source</th>
                    <th>What</th>
                    <th>Channel</th>
                    <th>Summary</th>
                    <th>Duration</th>
                  </tr>
                </thead>
                <tbody>
                  ${(this._timeline ?? []).map(
                    (e) =>
                      html`<tr>
                        <td>${when(e.at)}</td>
                        <td>${e.source}</td>
                        <td><code>${e.type}</code></td>
                        <td>${e.channel ?? ''}</td>
                        <td>${e.summary}</td>
                        <td>${e.durationMs === null ? '' : `${e.durationMs} ms`}</td>
                      </tr>`,
                  )}
                </tbody>
              </table>`
          : nothing
      }`;
  }
}

customElements.define('herald-message-page', MessagePage);
