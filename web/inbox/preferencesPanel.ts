import { html, nothing } from 'lit';
import { switchedOn, type Preferences, type Switch } from '../client/preferences';
import type { InboxStrings } from './strings';

export interface PreferencesView {
  prefs: Preferences | undefined;
  channels: readonly string[];
  categories: readonly string[];
  /** Said after a save, or why it failed. */
  note: string | undefined;
  t: InboxStrings;
  toggle(at: Switch, on: boolean): void;
  back(): void;
}

/** The user's own switches: a channel off stops everything on it, a category off stops it everywhere. */
export function preferencesPanel(v: PreferencesView) {
  const box = (at: Switch, label: string) =>
    html`<label class="switch"
      ><input
        type="checkbox"
        data-channel=${at.channel ?? ''}
        data-category=${at.category ?? ''}
        .checked=${v.prefs ? switchedOn(v.prefs, at) : true}
        ?disabled=${!v.prefs}
        @change=${(e: Event) => v.toggle(at, (e.target as HTMLInputElement).checked)}
      />${label}</label
    >`;
  return html`<div part="preferences" class="preferences">
    <p class="note">${v.t.preferencesHint}</p>
    <fieldset>
      <legend>${v.t.channels}</legend>
      ${v.channels.map((c) => box({ channel: c }, v.t.channel(c)))}
    </fieldset>
    ${
      v.categories.length
        ? html`<fieldset>
            <legend>${v.t.categories}</legend>
            ${v.categories.map((c) => box({ category: c }, c))}
          </fieldset>`
        : nothing
    }
    ${v.note ? html`<p class="note saved" role="status">${v.note}</p>` : nothing}
    <button class="link back" part="preferences-back" @click=${() => v.back()}>${v.t.back}</button>
  </div>`;
}
