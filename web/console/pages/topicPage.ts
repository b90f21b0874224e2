import { html } from 'lit';
import { api, enc, qs } from '../api';
import { ListPage } from '../listPage';
import { when } from '../page';

interface Member {
  userId: string;
  addedAt: string;
}

const userIdsIn = (text: string): string[] => text.split(/[\s,]+/).filter(Boolean);

/** One topic's current members: add some (comma or space separated), remove one after a confirmation. */
class TopicPage extends ListPage<Member> {
  static override properties = { topicKey: { attribute: false }, _title: { state: true } };
  declare topicKey: string;
  declare _title: string;

  protected override async fetchPage(cursor?: string) {
    const path = `/v1/topics/${enc(this.topicKey)}`;
    if (!cursor) {
      const t = await api<{ name: string; members: number }>('GET', path);
      this._title = `${t.name} · ${t.members} members`;
    }
    return api<{ items: Member[]; nextCursor: string | null }>(
      'GET',
      `${path}/members${qs({ limit: '200', cursor })}`,
    );
  }

  #change(kind: 'add' | 'remove', userIds: string[]) {
    const path = `/v1/topics/${enc(this.topicKey)}/members${kind === 'add' ? '' : '/remove'}`;
    return this.act(
      (r: { changed: number }) => `${r.changed} ${kind === 'add' ? 'added' : 'removed'}.`,
      () => api<{ changed: number }>('POST', path, { userIds }),
    );
  }

  protected override render() {
    return html`<h1>Topic ${this.topicKey}</h1>
      <p><a href="#/topics">All topics</a> <span class="meta" id="tp-title">${this._title ?? ''}</span></p>
      <form
        class="toolbar"
        @submit=${(e: Event) => {
          e.preventDefault();
          const ids = userIdsIn(this.field('tp-add'));
          if (ids.length) void this.#change('add', ids);
        }}
      >
        <input id="tp-add" size="50" placeholder="user ids to add (comma or space separated)" />
        <button type="submit">Add members</button>
      </form>
      ${this.notice()}
      ${this.table(
        ['User', 'Member since', ''],
        (m) =>
          html`<tr data-member=${m.userId}>
            <td><a href="#/subscribers/${enc(m.userId)}">${m.userId}</a></td>
            <td>${when(m.addedAt)}</td>
            <td>
              ${this.confirm(m.userId, 'remove', { ask: 'Remove…', yes: 'Yes, remove' }, () =>
                this.#change('remove', [m.userId]),
              )}
            </td>
          </tr>`,
        'No members.',
      )}`;
  }
}

customElements.define('herald-topic-page', TopicPage);
