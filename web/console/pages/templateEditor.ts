import { html, nothing } from 'lit';
import { Channel } from '../../../src/generated/prisma/enums';
import { api, ApiError, enc } from '../api';
import { errorText, Page, when } from '../page';
import { lineDiff } from './lineDiff';

/** The database's channel enum, which the sender registry must match (src/senders/registry.ts). */
const CHANNELS = Object.values(Channel);

/** Parts edited field by field; the others as JSON (their fields are in the API document, /docs). */
const FIELDS: Partial<Record<Channel, Array<[field: string, kind: 'input' | 'textarea']>>> = {
  mail: [
    ['subject', 'input'],
    ['html', 'textarea'],
    ['text', 'textarea'],
    ['account', 'input'],
  ],
  im: [
    ['title', 'input'],
    ['body', 'textarea'],
    ['url', 'input'],
    ['category', 'input'],
  ],
};

interface TemplateJson {
  code: string;
  name: string;
  description: string | null;
  status: string;
  currentVersion: number;
  version: number;
  variables: Record<string, string>;
  channels: Record<string, Record<string, unknown>>;
  locales: Record<string, unknown>;
  category: string | null;
  critical: boolean;
  throttle?: unknown;
  dedupe?: unknown;
  digest?: unknown;
  escalate?: unknown;
  fallback?: unknown;
  warnings?: string[];
}

/** How the template's messages go out, edited as one JSON object (their fields are in /docs). */
const RULES = ['category', 'critical', 'throttle', 'dedupe', 'digest', 'escalate', 'fallback'] as const;
const rulesOf = (t: TemplateJson | undefined): Record<string, unknown> =>
  Object.fromEntries(
    RULES.flatMap((k) => (t && t[k] !== undefined && t[k] !== null && t[k] !== false ? [[k, t[k]]] : [])),
  );
interface VersionJson {
  version: number;
  name: string;
  variables: unknown;
  channels: unknown;
  locales: unknown;
  createdAt: string;
}
interface Placed {
  channel: string;
  field: string;
  locale?: string;
}
interface DraftPreview {
  locale: string | null;
  channels: Record<string, Record<string, unknown>> | null;
  problems: {
    syntax: Array<Placed & { message: string; line?: number; column?: number }>;
    undeclared: Array<Placed & { variable: string; didYouMean?: string }>;
    variables: Array<{ variable: string; problem: string; expected: string; got: string }>;
    render?: string;
  };
}

const placeOf = (p: Placed) => `${p.locale ? `${p.locale}:` : ''}${p.channel}.${p.field}`;

/** One template: its parts beside a live preview, save as a new version, history with a diff, archive. */
class TemplateEditor extends Page {
  static override properties = {
    code: { attribute: false },
    _t: { state: true },
    _enabled: { state: true },
    _preview: { state: true },
    _fieldProblems: { state: true },
    _otherProblems: { state: true },
    _message: { state: true },
    _versions: { state: true },
    _diff: { state: true },
    _confirmArchive: { state: true },
  };
  declare code: string | undefined;
  declare _t: TemplateJson | undefined;
  declare _enabled: Set<Channel>;
  declare _preview: DraftPreview | undefined;
  declare _fieldProblems: Map<string, string[]>;
  declare _otherProblems: string[];
  declare _message: { kind: 'ok' | 'error'; text: string } | undefined;
  declare _versions: VersionJson[];
  declare _diff: [number, number] | undefined;
  declare _confirmArchive: boolean;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #seq = 0;

  constructor() {
    super();
    this._enabled = new Set(['mail', 'im']);
    this._fieldProblems = new Map();
    this._otherProblems = [];
    this._versions = [];
    this._confirmArchive = false;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    void this.#load();
  }

  async #load(): Promise<void> {
    if (this.code === undefined) {
      this.updateComplete.then(() => this.#schedulePreview());
      return;
    }
    try {
      const t = await api<TemplateJson>('GET', `/v1/templates/${enc(this.code)}`);
      this._t = t;
      this._enabled = new Set(Object.keys(t.channels) as Channel[]);
      const v = await api<{ items: VersionJson[] }>('GET', `/v1/templates/${enc(this.code)}/versions`);
      this._versions = v.items;
      await this.updateComplete;
      this.#schedulePreview();
    } catch (err) {
      this._message = { kind: 'error', text: errorText(err) };
    }
  }

  #value(id: string): string {
    return (this.querySelector<HTMLInputElement | HTMLTextAreaElement>(`#${id}`)?.value ?? '').trim();
  }

  #json(id: string, label: string, fallback: unknown): unknown {
    const text = this.#value(id);
    if (!text) return fallback;
    try {
      return JSON.parse(text);
    } catch {
      throw new Error(`${label} is not valid JSON`);
    }
  }

  /** The editor's content as the API takes it. */
  #content() {
    const channels: Record<string, unknown> = {};
    for (const ch of CHANNELS) {
      if (!this._enabled.has(ch)) continue;
      const fields = FIELDS[ch];
      if (!fields) {
        channels[ch] = this.#json(`part-${ch}`, `the ${ch} part`, {});
        continue;
      }
      const part: Record<string, string> = {};
      for (const [field] of fields) {
        const v = this.#value(`f-${ch}-${field}`);
        if (v || field === 'subject' || field === 'html' || field === 'title' || field === 'body')
          part[field] = v;
      }
      channels[ch] = part;
    }
    return {
      name: this.#value('t-name') || this.#value('t-code') || 'untitled',
      variables: this.#json('t-variables', 'variables', {}) as Record<string, string>,
      channels,
      locales: this.#json('t-locales', 'locales', {}) as Record<string, unknown>,
      ...(this.#json('t-rules', 'rules', {}) as Record<string, unknown>),
    };
  }

  #schedulePreview(): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.#runPreview(), 250);
  }

  async #runPreview(): Promise<void> {
    const seq = ++this.#seq;
    const fieldProblems = new Map<string, string[]>();
    const other: string[] = [];
    const put = (place: string, text: string) =>
      fieldProblems.set(place, [...(fieldProblems.get(place) ?? []), text]);
    let preview: DraftPreview | undefined;
    try {
      const c = this.#content();
      const locale = this.#value('s-locale');
      preview = await api<DraftPreview>('POST', '/v1/templates/preview', {
        template: { variables: c.variables, channels: c.channels, locales: c.locales },
        data: this.#json('s-data', 'sample data', {}),
        recipient: this.#json('s-recipient', 'sample recipient', undefined),
        ...(locale ? { locale } : {}),
      });
      for (const p of preview.problems.syntax)
        put(
          placeOf(p),
          `does not parse${p.line ? ` (line ${p.line}, column ${p.column})` : ''}: ${p.message}`,
        );
      for (const p of preview.problems.undeclared)
        put(
          placeOf(p),
          `uses ${p.variable}, which is not declared${p.didYouMean ? ` (did you mean ${p.didYouMean}?)` : ''}`,
        );
      for (const p of preview.problems.variables)
        put(
          'sample',
          p.problem === 'missing'
            ? `${p.variable} is missing (${p.expected})`
            : `${p.variable} should be ${p.expected}, got ${p.got}`,
        );
      if (preview.problems.render) other.push(preview.problems.render);
    } catch (err) {
      if (err instanceof ApiError && Array.isArray(err.errors))
        for (const e of err.errors as Array<{ path?: string; message?: string }>) {
          const path = (e.path ?? '').replace(/^body\.template\.channels\./, '').replace(/^body\./, '');
          if (/^[a-z_]+\.[A-Za-z]+$/.test(path)) put(path, e.message ?? 'invalid');
          else other.push(`${path}: ${e.message ?? 'invalid'}`);
        }
      else other.push(errorText(err));
    }
    if (seq !== this.#seq) return; // a newer keystroke's preview is on its way
    this._preview = preview;
    this._fieldProblems = fieldProblems;
    this._otherProblems = other;
  }

  async #save(): Promise<void> {
    try {
      const c = this.#content();
      const description = this.#value('t-description');
      const body = { ...c, ...(description ? { description } : {}) };
      const saved =
        this.code === undefined
          ? await api<TemplateJson>('POST', '/v1/templates', { code: this.#value('t-code'), ...body })
          : await api<TemplateJson>('PUT', `/v1/templates/${enc(this.code)}`, body);
      const warnings = saved.warnings?.length ? ` Warnings: ${saved.warnings.join('; ')}` : '';
      this._message = { kind: 'ok', text: `Saved version ${saved.currentVersion}.${warnings}` };
      if (this.code === undefined) {
        location.hash = `#/templates/${enc(saved.code)}`;
        return;
      }
      await this.#load();
    } catch (err) {
      this._message = { kind: 'error', text: errorText(err) };
    }
  }

  async #archive(): Promise<void> {
    if (!this.code) return;
    try {
      await api('DELETE', `/v1/templates/${enc(this.code)}`);
      this._confirmArchive = false;
      this._message = { kind: 'ok', text: 'Archived: new messages for it are rejected.' };
      await this.#load();
    } catch (err) {
      this._message = { kind: 'error', text: errorText(err) };
    }
  }

  async #send(): Promise<void> {
    if (!this.code) return;
    try {
      const to: Record<string, string> = {};
      for (const [key, id] of [
        ['userId', 's-to-user'],
        ['email', 's-to-email'],
        ['name', 's-to-name'],
      ] as const) {
        const v = this.#value(id);
        if (v) to[key] = v;
      }
      const id = `console-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
      await api('POST', '/v1/messages', {
        id,
        template: this.code,
        to: [to],
        data: this.#json('s-data', 'sample data', {}),
      });
      location.hash = `#/messages/${enc(id)}`;
    } catch (err) {
      this._message = { kind: 'error', text: errorText(err) };
    }
  }

  #problems(place: string) {
    const list = this._fieldProblems.get(place);
    return list ? html`${list.map((p) => html`<p class="problem" data-place=${place}>${p}</p>`)}` : nothing;
  }

  #partEditor(ch: Channel) {
    const t = this._t;
    const part = (t?.channels[ch] ?? {}) as Record<string, unknown>;
    const fields = FIELDS[ch];
    return html`<fieldset class="part" data-channel=${ch}>
      <legend>${ch}</legend>
      ${
        fields
          ? fields.map(([field, kind]) => {
              const id = `f-${ch}-${field}`;
              const value = typeof part[field] === 'string' ? (part[field] as string) : '';
              return html`<label for=${id}>${field}</label> ${
                  kind === 'input'
                    ? html`<input id=${id} .value=${value} @input=${() => this.#schedulePreview()} />`
                    : html`<textarea
                        id=${id}
                        rows="4"
                        .value=${value}
                        @input=${() => this.#schedulePreview()}
                      ></textarea>`
                }
                ${this.#problems(`${ch}.${field}`)}`;
            })
          : html`<textarea
              id="part-${ch}"
              rows="5"
              .value=${JSON.stringify(part, null, 2)}
              @input=${() => this.#schedulePreview()}
            ></textarea>`
      }
    </fieldset>`;
  }

  #renderedPart(ch: string, rendered: Record<string, unknown>) {
    if (ch === 'mail')
      return html`<div class="rendered" data-channel="mail">
        <h3>mail</h3>
        <p><strong class="r-subject">${String(rendered.subject ?? '')}</strong></p>
        <iframe class="r-html" sandbox="" title="mail HTML" .srcdoc=${String(rendered.html ?? '')}></iframe>
        <pre class="r-text">${String(rendered.text ?? '')}</pre>
      </div>`;
    return html`<div class="rendered" data-channel=${ch}>
      <h3>${ch}</h3>
      <pre class="r-json">${JSON.stringify(rendered, null, 2)}</pre>
    </div>`;
  }

  #history() {
    if (this._versions.length === 0) return nothing;
    const [a, b] = this._diff ?? [];
    const left = this._versions.find((v) => v.version === a);
    const right = this._versions.find((v) => v.version === b);
    const lines = (v: VersionJson) =>
      JSON.stringify(
        { name: v.name, variables: v.variables, channels: v.channels, locales: v.locales },
        null,
        2,
      ).split('\n');
    return html`<section class="history">
      <h2>Version history</h2>
      <table>
        <thead>
          <tr>
            <th>Version</th>
            <th>Name</th>
            <th>Created</th>
            <th></th>
          </tr>
        </thead>
        <tbody>
          ${this._versions.map(
            (v) =>
              html`<tr>
                <td>${v.version}</td>
                <td>${v.name}</td>
                <td>${when(v.createdAt)}</td>
                <td>
                  ${
                    v.version > 1
                      ? html`<button class="quiet" @click=${() => (this._diff = [v.version - 1, v.version])}>
                          diff with ${v.version - 1}
                        </button>`
                      : nothing
                  }
                </td>
              </tr>`,
          )}
        </tbody>
      </table>
      ${
        left && right
          ? html`<table class="diff">
              <thead>
                <tr>
                  <th>version ${left.version}</th>
                  <th>version ${right.version}</th>
                </tr>
              </thead>
              <tbody>
                ${lineDiff(lines(left), lines(right)).map(
                  (r) =>
                    html`<tr class=${r.kind}>
                      <td><pre>${r.left ?? ''}</pre></td>
                      <td><pre>${r.right ?? ''}</pre></td>
                    </tr>`,
                )}
              </tbody>
            </table>`
          : nothing
      }
    </section>`;
  }

  protected override render() {
    const t = this._t;
    const p = this._preview;
    return html`<h1>${t ? html`Template <code>${t.code}</code>` : 'New template'}</h1>
      ${t ? html`<p class="meta">version ${t.currentVersion} · ${t.status}</p>` : nothing}
      ${this._message ? html`<p class=${this._message.kind} role="status">${this._message.text}</p>` : nothing}
      <div class="editor">
        <form class="edit" @submit=${(e: Event) => e.preventDefault()}>
          ${
            t
              ? nothing
              : html`<label for="t-code">code</label
                  ><input id="t-code" @input=${() => this.#schedulePreview()} />`
          }
          <label for="t-name">name</label>
          <input id="t-name" .value=${t?.name ?? ''} />
          <label for="t-description">description</label>
          <input id="t-description" .value=${t?.description ?? ''} />
          <label for="t-variables"
            >variables (JSON: name → string, number, boolean, date, object, array; name? is optional)</label
          >
          <textarea
            id="t-variables"
            rows="3"
            .value=${JSON.stringify(t?.variables ?? {}, null, 1)}
            @input=${() => this.#schedulePreview()}
          ></textarea>
          <div class="channels">
            ${CHANNELS.map(
              (ch) =>
                html`<label class="inline"
                  ><input
                    type="checkbox"
                    data-channel=${ch}
                    .checked=${this._enabled.has(ch)}
                    @change=${(e: Event) => {
                      const next = new Set(this._enabled);
                      if ((e.target as HTMLInputElement).checked) next.add(ch);
                      else next.delete(ch);
                      this._enabled = next;
                      void this.updateComplete.then(() => this.#schedulePreview());
                    }}
                  />${ch}</label
                >`,
            )}
          </div>
          ${CHANNELS.filter((ch) => this._enabled.has(ch)).map((ch) => this.#partEditor(ch))}
          <label for="t-locales">locales (JSON: locale → channel → fields to override)</label>
          <textarea
            id="t-locales"
            rows="3"
            .value=${JSON.stringify(t?.locales ?? {}, null, 1)}
            @input=${() => this.#schedulePreview()}
          ></textarea>
          <label for="t-rules">rules (JSON: ${RULES.join(', ')})</label>
          <textarea id="t-rules" rows="3" .value=${JSON.stringify(rulesOf(t), null, 1)}></textarea>
          <div class="actions">
            <button type="button" id="save" @click=${() => void this.#save()}>
              ${t ? 'Save as a new version' : 'Create'}
            </button>
            ${
              t && t.status === 'active'
                ? this._confirmArchive
                  ? html`<button
                        type="button"
                        class="danger"
                        id="archive-confirm"
                        @click=${() => void this.#archive()}
                      >
                        Yes, archive ${t.code}</button
                      ><button type="button" class="quiet" @click=${() => (this._confirmArchive = false)}>
                        Cancel
                      </button>`
                  : html`<button
                      type="button"
                      class="quiet"
                      id="archive"
                      @click=${() => (this._confirmArchive = true)}
                    >
                      Archive…
                    </button>`
                : nothing
            }
          </div>
        </form>
        <aside class="preview">
          <h2>Preview</h2>
          <label for="s-data">sample data (JSON)</label>
          <textarea id="s-data" rows="3" @input=${() => this.#schedulePreview()}>{}</textarea>
          ${this.#problems('sample')}
          <label for="s-recipient">sample recipient (JSON, optional)</label>
          <textarea id="s-recipient" rows="2" @input=${() => this.#schedulePreview()}></textarea>
          <label for="s-locale">locale (optional)</label>
          <input id="s-locale" @input=${() => this.#schedulePreview()} />
          ${this._otherProblems.map((m) => html`<p class="problem">${m}</p>`)}
          <div id="preview-out">
            ${
              p?.channels
                ? Object.entries(p.channels).map(([ch, r]) =>
                    this.#renderedPart(ch, r as Record<string, unknown>),
                  )
                : html`<p class="hint">The preview shows once every problem is fixed.</p>`
            }
          </div>
          ${
            t
              ? html`<h2>Send with this sample data</h2>
                  <div class="send">
                    <input id="s-to-user" placeholder="userId" />
                    <input id="s-to-email" placeholder="email" />
                    <input id="s-to-name" placeholder="name" />
                    <button type="button" id="send" @click=${() => void this.#send()}>Send</button>
                  </div>`
              : nothing
          }
        </aside>
      </div>
      ${this.#history()}`;
  }
}

customElements.define('herald-template-editor', TemplateEditor);
