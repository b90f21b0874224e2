import { html } from 'lit';
import { api, enc, qs } from '../api';
import { ListPage } from '../listPage';
import { when } from '../page';

interface Topic {
  key: string;
  name: string;
  members: number;
  createdAt: string;
  updatedAt: string;
}

/** Topics (named groups an envelope sends to with `"to": { "topic": key }`): list and create. */
class TopicsPage extends ListPage<Topic> {
  protected override fetchPage(cursor?: string) {
    return api<{ items: Topic[]; nextCursor: string | null }>(
      'GET',
      `/v1/topics${qs({ limit: '100', cursor })}`,
    );
  }

  #create(e: Event): void {
    e.preventDefault();
    const key = this.field('tp-key');
    void this.act(`Created ${key}.`, () => api('POST', '/v1/topics', { key, name: this.field('tp-name') }));
  }

  protected override render() {
    return html`<h1>Topics</h1>
      <form class="toolbar" @submit=${(e: Event) => this.#create(e)}>
        <input id="tp-key" placeholder="key (e.g. ops-oncall)" />
        <input id="tp-name" placeholder="name" />
        <button type="submit">Create topic</button>
      </form>
      ${this.notice()}
      ${this.table(
        ['Key', 'Name', 'Members', 'Created'],
        (t) =>
          html`<tr data-topic=${t.key}>
            <td><a href="#/topics/${enc(t.key)}">${t.key}</a></td>
            <td>${t.name}</td>
            <td class="members">${t.members}</td>
            <td>${when(t.createdAt)}</td>
          </tr>`,
        'No topics.',
      )}`;
  }
}

customElements.define('herald-topics-page', TopicsPage);
