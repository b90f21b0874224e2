import { html, nothing, svg } from 'lit';
import { api } from '../api';
import { errorText, Page } from '../page';

interface Stats {
  queues: Array<{ queue: string; messages: number; consumers: number }>;
  oldestUnfinishedSeconds: number | null;
  deadLetters: number;
  windowMinutes: number;
  deliveriesPerMinute: Array<{ minute: string; channel: string; status: string; count: number }>;
}

const COLORS: Record<string, string> = {
  sent: '#2da44e',
  delivered: '#1a7f37',
  read: '#0969da',
  failed: '#cf222e',
  retrying: '#bf8700',
  skipped: '#8c959f',
  queued: '#6e7781',
  sending: '#54aeff',
  cancelled: '#57606a',
  deferred: '#9a6700',
};
const color = (status: string) => COLORS[status] ?? '#8250df';

/** Stacked bars drawn as SVG (no chart library: a few rectangles, and no inline script or style). */
function stackedBars(
  columns: Array<{ label: string; parts: Array<{ key: string; value: number }> }>,
  opts: { width: number; height: number; id: string },
) {
  const max = Math.max(1, ...columns.map((c) => c.parts.reduce((s, p) => s + p.value, 0)));
  const bw = opts.width / Math.max(1, columns.length);
  return svg`<svg id=${opts.id} class="chart" viewBox="0 0 ${opts.width} ${opts.height + 16}" role="img">
    <line x1="0" y1=${opts.height} x2=${opts.width} y2=${opts.height} stroke="#d0d7de" />
    ${columns.map((c, i) => {
      let y = opts.height;
      return svg`<g>
        ${c.parts.map((p) => {
          const h = (p.value / max) * (opts.height - 4);
          y -= h;
          return svg`<rect class="bar" data-key=${p.key} data-value=${p.value} x=${i * bw + 1} y=${y} width=${Math.max(1, bw - 2)} height=${h} fill=${color(p.key)}><title>${c.label} ${p.key}: ${p.value}</title></rect>`;
        })}
        ${columns.length <= 12 || i % 5 === 0 ? svg`<text x=${i * bw + bw / 2} y=${opts.height + 12} text-anchor="middle" font-size="9" fill="#656d76">${c.label}</text>` : nothing}
      </g>`;
    })}
    <text x="2" y="10" font-size="9" fill="#656d76">max ${max}</text>
  </svg>`;
}

/** Queue depths, consumers, the backlog and deliveries per minute by channel and status, from /v1/stats. */
class HealthPage extends Page {
  static override properties = { _s: { state: true }, _error: { state: true } };
  declare _s: Stats | undefined;
  declare _error: string | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;

  override connectedCallback(): void {
    super.connectedCallback();
    void this.#load();
    this.#timer = setInterval(() => void this.#load(), 5000);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    clearInterval(this.#timer);
  }

  async #load(): Promise<void> {
    try {
      this._s = await api<Stats>('GET', '/v1/stats');
      this._error = undefined;
    } catch (err) {
      this._error = errorText(err);
    }
  }

  protected override render() {
    const s = this._s;
    if (!s)
      return html`<h1>Health</h1>
        ${this._error ? html`<p class="error">${this._error}</p>` : nothing}`;
    const now = Date.now();
    const minutes = Array.from({ length: s.windowMinutes }, (_, k) => {
      const t = new Date(Math.floor(now / 60_000) * 60_000 - (s.windowMinutes - 1 - k) * 60_000);
      return t.toISOString();
    });
    const perMinute = minutes.map((m) => {
      const rows = s.deliveriesPerMinute.filter((r) => r.minute === m);
      const byStatus = new Map<string, number>();
      for (const r of rows) byStatus.set(r.status, (byStatus.get(r.status) ?? 0) + r.count);
      return { label: m.slice(11, 16), parts: [...byStatus].map(([key, value]) => ({ key, value })) };
    });
    const channels = [...new Set(s.deliveriesPerMinute.map((r) => r.channel))].sort();
    const byChannel = channels.map((ch) => {
      const byStatus = new Map<string, number>();
      for (const r of s.deliveriesPerMinute.filter((x) => x.channel === ch))
        byStatus.set(r.status, (byStatus.get(r.status) ?? 0) + r.count);
      return { label: ch, parts: [...byStatus].map(([key, value]) => ({ key, value })) };
    });
    const statuses = [...new Set(s.deliveriesPerMinute.map((r) => r.status))].sort();
    const total = s.deliveriesPerMinute.reduce((n, r) => n + r.count, 0);
    return html`<h1>Health</h1>
      ${this._error ? html`<p class="error" role="alert">${this._error}</p>` : nothing}
      <div class="cards">
        <div class="card">
          <div class="big" id="h-total">${total}</div>
          deliveries in the last ${s.windowMinutes} min
        </div>
        <div class="card">
          <div class="big" id="h-oldest">
            ${s.oldestUnfinishedSeconds === null ? '—' : `${s.oldestUnfinishedSeconds} s`}
          </div>
          oldest unfinished message
        </div>
        <div class="card">
          <div class="big" id="h-dead">${s.deadLetters}</div>
          dead letters not replayed
        </div>
      </div>
      <h2>Deliveries per minute, by status</h2>
      ${stackedBars(perMinute, { width: 600, height: 140, id: 'chart-per-minute' })}
      <p class="legend">${statuses.map((st) => html`<span><i class="swatch ${st}"></i>${st}</span>`)}</p>
      <h2>By channel and status</h2>
      ${stackedBars(byChannel, { width: 600, height: 120, id: 'chart-by-channel' })}
      <h2>Queues</h2>
      ${
        s.queues.length === 0
          ? html`<p class="hint">No RabbitMQ queues: embedded mode queues in the database.</p>`
          : html`${stackedBars(
                s.queues.map((q) => ({
                  label: q.queue.split('.').slice(-1)[0] ?? q.queue,
                  parts: [{ key: 'queued', value: q.messages }],
                })),
                { width: 600, height: 100, id: 'chart-queues' },
              )}
              <table>
                <thead>
                  <tr>
                    <th>Queue</th>
                    <th>Messages</th>
                    <th>Consumers</th>
                  </tr>
                </thead>
                <tbody>
                  ${s.queues.map(
                    (q) =>
                      html`<tr>
                        <td>${q.queue}</td>
                        <td>${q.messages}</td>
                        <td>${q.consumers}</td>
                      </tr>`,
                  )}
                </tbody>
              </table>`
      }`;
  }
}

customElements.define('herald-health-page', HealthPage);
