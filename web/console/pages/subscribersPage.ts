import { html } from 'lit';
import { api, enc, qs } from '../api';
import { ListPage } from '../listPage';
import { when } from '../page';
import type { Subscriber } from './subscriberPage';

/** The subscriber directory by user id; an email finds the one with that address; a user id opens them. */
class SubscribersPage extends ListPage<Subscriber> {
  #email: string | undefined;

  protected override fetchPage(cursor?: string) {
    return api<{ items: Subscriber[]; nextCursor: string | null }>(
      'GET',
      `/v1/subscribers${qs({ email: this.#email, limit: '100', cursor })}`,
    );
  }

  #search(e: Event): void {
    e.preventDefault();
    const userId = this.field('sub-user');
    if (userId) {
      location.hash = `#/subscribers/${enc(userId)}`;
      return;
    }
    this.#email = this.field('sub-email') || undefined;
    this._message = undefined;
    void this.load();
  }

  protected override render() {
    return html`<h1>Subscribers</h1>
      <form class="filters" @submit=${(e: Event) => this.#search(e)}>
        <input id="sub-email" type="search" placeholder="email (exact)" />
        <input id="sub-user" placeholder="user id (opens it; a new one creates it)" />
        <button type="submit">Search</button>
      </form>
      ${this.notice()}
      ${this.table(
        ['User', 'Name', 'Email', 'Locale', 'Time zone', 'Updated'],
        (s) =>
          html`<tr data-subscriber=${s.userId}>
            <td><a href="#/subscribers/${enc(s.userId)}">${s.userId}</a></td>
            <td>${s.name ?? ''}</td>
            <td>${s.email ?? ''}</td>
            <td>${s.locale ?? ''}</td>
            <td>${s.timezone ?? ''}</td>
            <td>${when(s.updatedAt)}</td>
          </tr>`,
        this.#email ? 'No subscriber has that address.' : 'No subscribers.',
      )}`;
  }
}

customElements.define('herald-subscribers-page', SubscribersPage);
