import { LitElement } from 'lit';

/** Console pages render into the light DOM, so console.css styles them and no shadow root hides them. */
export class Page extends LitElement {
  protected override createRenderRoot(): HTMLElement {
    return this;
  }

  /** The trimmed value of this page's input, select or textarea with that id ('' when there is none). */
  protected field(id: string): string {
    return (
      this.querySelector<HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement>(
        `#${id}`,
      )?.value.trim() ?? ''
    );
  }

  protected checked(selector: string): boolean {
    return this.querySelector<HTMLInputElement>(selector)?.checked ?? false;
  }
}

export const when = (iso: string | null | undefined): string =>
  iso ? new Date(iso).toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'medium' }) : '—';

export const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err));
