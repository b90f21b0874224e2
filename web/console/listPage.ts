import { html, nothing, type PropertyDeclarations, type TemplateResult } from 'lit';
import { errorText, Page } from './page';

/** What the last action came to, shown above the list. */
export interface Notice {
  kind: 'ok' | 'error';
  text: string;
}

/** One page of rows from the API; a list without paging has no cursor. */
export interface ListChunk<T> {
  items: T[];
  nextCursor?: string | null;
}

/**
 * A page that lists rows from the API: it loads when it is connected, pages on with More, runs an action
 * and reloads, says how each went, opens one row's details and asks once more before a destructive
 * action. A subclass gives `fetchPage` and renders with `notice()`, `table()`, `details()` and `confirm()`.
 */
export abstract class ListPage<T> extends Page {
  // Typed wide so that each page adds its own.
  static override properties: PropertyDeclarations = {
    _items: { state: true },
    _next: { state: true },
    _message: { state: true },
    _open: { state: true },
    _confirm: { state: true },
  };
  declare _items: T[];
  declare _next: string | null;
  declare _message: Notice | undefined;
  /** The key of the row whose details are shown. */
  declare _open: string | undefined;
  /** The key of the destructive action waiting for its second click. */
  declare _confirm: string | undefined;

  constructor() {
    super();
    this._items = [];
    this._next = null;
  }

  protected abstract fetchPage(cursor?: string): Promise<ListChunk<T>>;

  override connectedCallback(): void {
    super.connectedCallback();
    void this.load();
  }

  /** The first page again (no cursor), or the next one appended. */
  protected async load(cursor?: string): Promise<void> {
    try {
      const page = await this.fetchPage(cursor);
      this._items = cursor ? [...this._items, ...page.items] : page.items;
      this._next = page.nextCursor ?? null;
    } catch (err) {
      this.fail(err);
    }
  }

  protected fail(err: unknown): void {
    this._message = { kind: 'error', text: errorText(err) };
  }

  /**
   * Runs one change, then reloads the list; then says `label` (or what it makes of the answer), so what
   * it says is shown with the list as it now is, or why the change or the reload failed.
   */
  protected async act<R>(label: string | ((answer: R) => string), call: () => Promise<R>): Promise<boolean> {
    this._message = undefined;
    try {
      const answer = await call();
      this._confirm = undefined;
      await this.load();
      this._message ??= { kind: 'ok', text: typeof label === 'string' ? label : label(answer) };
      return true;
    } catch (err) {
      this.fail(err);
      return false;
    }
  }

  protected toggle(key: string): void {
    this._open = this._open === key ? undefined : key;
  }

  protected notice() {
    const m = this._message;
    if (!m) return nothing;
    return html`<p class=${m.kind} role=${m.kind === 'error' ? 'alert' : 'status'}>${m.text}</p>`;
  }

  /** The rows under their headings, what an empty list says, and More while the API has more. */
  protected table(
    head: readonly string[],
    row: (item: T) => TemplateResult,
    empty: string,
    cls = '',
  ): TemplateResult {
    return html`<table class=${cls}>
        <thead>
          <tr>
            ${head.map((h) => html`<th>${h}</th>`)}
          </tr>
        </thead>
        <tbody>
          ${this._items.map(row)}
        </tbody>
      </table>
      ${this._items.length === 0 ? html`<p class="empty">${empty}</p>` : nothing}
      ${
        this._next
          ? html`<button class="quiet more" @click=${() => void this.load(this._next ?? undefined)}>
              More
            </button>`
          : nothing
      }`;
  }

  /** The open row's details, as a full-width row under it. */
  protected details(key: string, columns: number, content: () => unknown) {
    return this._open === key
      ? html`<tr class="envelope">
          <td colspan=${columns}>${content()}</td>
        </tr>`
      : nothing;
  }

  /**
   * A destructive button (class `cls`) that asks once more: the second button (class `cls-confirm`)
   * runs it, Cancel takes it back. `key` tells one row's from another's.
   */
  protected confirm(key: string, cls: string, labels: { ask: string; yes: string }, run: () => unknown) {
    return this._confirm === key
      ? html`<button class="danger ${cls}-confirm" @click=${() => void run()}>${labels.yes}</button
          ><button class="quiet" @click=${() => (this._confirm = undefined)}>Cancel</button>`
      : html`<button class="quiet ${cls}" @click=${() => (this._confirm = key)}>${labels.ask}</button>`;
  }
}
