import { html, nothing } from 'lit';
import { keyed } from 'lit/directives/keyed.js';
import { api, session, SIGNED_OUT } from './api';
import { errorText, Page } from './page';
import './pages/templatesPage';
import './pages/templateEditor';
import './pages/accountsPage';
import './pages/messagesPage';
import './pages/messagePage';
import './pages/deadLettersPage';
import './pages/scheduledPage';
import './pages/digestsPage';
import './pages/escalationsPage';
import './pages/healthPage';
import './pages/keysPage';
import './pages/webhooksPage';
import './pages/auditPage';
import './pages/subscribersPage';
import './pages/subscriberPage';
import './pages/topicsPage';
import './pages/topicPage';
import './pages/inboxTabsPage';

const NAV = [
  ['templates', 'Templates'],
  ['accounts', 'Channel accounts'],
  ['messages', 'Messages'],
  ['scheduled', 'Scheduled'],
  ['digests', 'Digests'],
  ['escalations', 'Escalations'],
  ['subscribers', 'Subscribers'],
  ['topics', 'Topics'],
  ['inbox-tabs', 'Inbox tabs'],
  ['dead-letters', 'Dead letters'],
  ['webhooks', 'Webhooks'],
  ['keys', 'API keys'],
  ['audit', 'Audit log'],
  ['health', 'Health'],
] as const;

/**
 * The console's shell: sign-in, navigation and a hash router (`#/templates/order_shipped`); each route
 * gets a fresh page element, so a page loads what its route names when it is connected.
 */
class HeraldConsole extends Page {
  static override properties = {
    _route: { state: true },
    _signedIn: { state: true },
    _error: { state: true },
  };
  declare _route: string[];
  declare _signedIn: boolean;
  declare _error: string | undefined;

  constructor() {
    super();
    this._route = this.#parse();
    this._signedIn = session.token() !== null;
  }

  #parse(): string[] {
    const parts = location.hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
    return parts.length ? parts : ['templates'];
  }

  override connectedCallback(): void {
    super.connectedCallback();
    window.addEventListener('hashchange', () => (this._route = this.#parse()));
    window.addEventListener(SIGNED_OUT, () => {
      this._signedIn = false;
      this._error = 'The admin token was refused; sign in again.';
    });
  }

  async #signIn(e: Event): Promise<void> {
    e.preventDefault();
    const input = this.querySelector<HTMLInputElement>('#admin-token');
    const token = input?.value.trim() ?? '';
    if (!token) return;
    try {
      await api('GET', '/v1/templates?limit=1', undefined, token);
      session.signIn(token);
      this._signedIn = true;
      this._error = undefined;
    } catch (err) {
      this._error = `Not signed in: ${errorText(err)}`;
    }
  }

  #page() {
    const [section, id] = this._route;
    switch (section) {
      case 'templates':
        return id === undefined
          ? html`<herald-templates-page></herald-templates-page>`
          : html`<herald-template-editor .code=${id === 'new' ? undefined : id}></herald-template-editor>`;
      case 'accounts':
        return html`<herald-accounts-page></herald-accounts-page>`;
      case 'messages':
        return id === undefined
          ? html`<herald-messages-page></herald-messages-page>`
          : html`<herald-message-page .messageId=${id}></herald-message-page>`;
      case 'scheduled':
        return html`<herald-scheduled-page></herald-scheduled-page>`;
      case 'digests':
        return html`<herald-digests-page></herald-digests-page>`;
      case 'escalations':
        return html`<herald-escalations-page></herald-escalations-page>`;
      case 'dead-letters':
        return html`<herald-dead-letters-page></herald-dead-letters-page>`;
      case 'subscribers':
        return id === undefined
          ? html`<herald-subscribers-page></herald-subscribers-page>`
          : html`<herald-subscriber-page .userId=${id}></herald-subscriber-page>`;
      case 'topics':
        return id === undefined
          ? html`<herald-topics-page></herald-topics-page>`
          : html`<herald-topic-page .topicKey=${id}></herald-topic-page>`;
      case 'inbox-tabs':
        return html`<herald-inbox-tabs-page></herald-inbox-tabs-page>`;
      case 'webhooks':
        return html`<herald-webhooks-page></herald-webhooks-page>`;
      case 'keys':
        return html`<herald-keys-page></herald-keys-page>`;
      case 'audit':
        return html`<herald-audit-page></herald-audit-page>`;
      case 'health':
        return html`<herald-health-page></herald-health-page>`;
      default:
        return html`<p>No such page.</p>`;
    }
  }

  protected override render() {
    if (!this._signedIn)
      return html`<main class="signin">
        <h1>Herald console</h1>
        <form @submit=${(e: Event) => void this.#signIn(e)}>
          <label for="admin-token">Admin token</label>
          <input id="admin-token" type="password" autocomplete="off" />
          <button type="submit">Sign in</button>
        </form>
        <p class="hint">
          Kept in this tab only (sessionStorage). Embedded mode writes it to .herald/admin-token.
        </p>
        ${this._error ? html`<p class="error" role="alert">${this._error}</p>` : nothing}
      </main>`;
    return html`<header class="top">
        <strong>Herald</strong>
        <nav>
          ${NAV.map(
            ([path, label]) =>
              html`<a href="#/${path}" class=${this._route[0] === path ? 'active' : ''}>${label}</a>`,
          )}
        </nav>
        <button
          class="quiet"
          id="sign-out"
          @click=${() => {
            session.signOut();
            this._signedIn = false;
          }}
        >
          Sign out
        </button>
      </header>
      <main>${keyed(this._route.join('/'), this.#page())}</main>`;
  }
}

customElements.define('herald-console', HeraldConsole);
