import { LitElement, html, nothing, type PropertyValues } from 'lit';
import { property, state } from 'lit/decorators.js';
import { ApiClient, ApiError, type Me, type SessionUser, type UnauthorizedDetail } from '../../lib/api.js';
import { emit } from '../../lib/emit.js';
import { createTokenStore, parseTokenStorage } from '../../lib/token-store.js';
import { sharedStyles } from '../../styles/shared.styles.js';
import { widgetStyles } from './widget.styles.js';
import '../login/login.js';
import '../upload/upload.js';
import '../documents/documents.js';
import '../search/search.js';
import '../admin/admin.js';

type Tab = 'search' | 'upload' | 'documents' | 'admin';
const TAB_LABELS: Record<Tab, string> = {
  search: 'Search',
  upload: 'Upload',
  documents: 'Documents',
  admin: 'Admin',
};

/**
 * The rattgllm document side in one tag: a banner, the signed-in user with a sign-out button, and
 * tabs for Search, Upload, Documents and (for admins) Admin. Without a valid session it shows the
 * sign-in form; an expired or rejected token brings it back with the server's message.
 *
 * @example
 * <script type="module" src="/widget/rattg-widget.js"></script>
 * <rattg-widget api-base="/api" chat-url="/openwebui"></rattg-widget>
 *
 * @event rattg-login - Signed in. `detail: { user }`.
 * @event rattg-logout - Signed out. `detail: { reason: 'user' | 'expired' | 'rejected', message }`.
 * @event rattg-tab-change - Another tab was opened. `detail: { tab }`.
 *
 * @csspart base - The whole widget.
 * @csspart header - The banner row.
 * @csspart banner - The title.
 * @csspart user - The signed-in user's name.
 * @csspart sign-out - The sign-out button.
 * @csspart chat-link - The link to the chat.
 * @csspart tabs - The tab list.
 * @csspart tab - Each tab.
 * @csspart panel - The open tab's panel.
 *
 * @cssproperty --rattg-color-primary - Accent colour (buttons, header, selected tab).
 * @cssproperty --rattg-color-on-primary - Text on the accent colour.
 * @cssproperty --rattg-color-text - Text colour.
 * @cssproperty --rattg-color-muted - Secondary text colour.
 * @cssproperty --rattg-color-bg - Background.
 * @cssproperty --rattg-color-surface - Background of panels and the tab bar.
 * @cssproperty --rattg-color-border - Borders.
 * @cssproperty --rattg-color-danger - Errors and destructive buttons.
 * @cssproperty --rattg-header-bg - Header background (default: the accent colour).
 * @cssproperty --rattg-header-color - Header text colour.
 * @cssproperty --rattg-radius - Corner radius.
 * @cssproperty --rattg-font - Font family.
 * @cssproperty --rattg-font-size - Base font size.
 * @cssproperty --rattg-focus-ring - Box shadow of the focus ring.
 */
export class RattgWidget extends LitElement {
  static override styles = [sharedStyles, widgetStyles];

  /** Prefix of the API: "/api" behind Caddy (default), "" against the gateway directly. */
  @property({ attribute: 'api-base' }) accessor apiBase = '/api';
  /** Where the JWT is kept: `session` (default, this tab), `local` (all tabs), `memory` (this page view). */
  @property({ attribute: 'token-storage' }) accessor tokenStorage = 'session';
  /** Optional link to the chat (Open WebUI). */
  @property({ attribute: 'chat-url' }) accessor chatUrl = '';
  /** Banner text. */
  @property() accessor banner = 'rattgllm – RAG + JWT + LLM';

  @state() accessor client: ApiClient | null = null;
  @state() accessor me: Me | null = null;
  @state() accessor tab: Tab = 'search';
  @state() accessor notice = '';
  @state() accessor checking = false;

  private expiryTimer: ReturnType<typeof setTimeout> | undefined;
  private onUnauthorized = (e: Event) => {
    const { message, code } = (e as CustomEvent<UnauthorizedDetail>).detail;
    this.signOut(code === 'TOKEN_EXPIRED' ? 'expired' : 'rejected', message);
  };

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('apiBase') || changed.has('tokenStorage')) this.makeClient();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    clearTimeout(this.expiryTimer);
  }

  private makeClient(): void {
    this.client?.removeEventListener('unauthorized', this.onUnauthorized);
    const client = new ApiClient(
      this.apiBase,
      createTokenStore(parseTokenStorage(this.tokenStorage), this.apiBase),
    );
    client.addEventListener('unauthorized', this.onUnauthorized);
    this.client = client;
    this.me = null;
    if (client.token) void this.resume(client);
  }

  /** A token from an earlier page view: check it is still good before showing anything. */
  private async resume(client: ApiClient): Promise<void> {
    this.checking = true;
    try {
      const me = await client.me();
      if (client === this.client) this.setMe(me, client.token);
    } catch (err) {
      // A 401 already sent us to the login form with its message; other errors keep the token.
      if (!(err instanceof ApiError) || err.status !== 401) this.notice = (err as Error).message;
    } finally {
      this.checking = false;
    }
  }

  private setMe(me: Me, token: string | null): void {
    this.me = me;
    this.notice = '';
    clearTimeout(this.expiryTimer);
    const exp = token ? tokenExpiry(token) : null;
    if (exp) {
      // Back to the login form when the session runs out, even if the user does nothing.
      const ms = exp * 1000 - Date.now();
      this.expiryTimer = setTimeout(
        () => this.signOut('expired', 'Your session has expired; sign in again'),
        Math.max(0, Math.min(ms, 2 ** 31 - 1)),
      );
    }
  }

  private async onLogin(e: CustomEvent<{ user: SessionUser }>): Promise<void> {
    if (e.target === this) return;
    const client = this.client!;
    try {
      const me = await client.me();
      this.setMe(me, client.token);
      this.tab = 'search';
      emit(this, 'rattg-login', { user: e.detail.user });
    } catch (err) {
      this.notice = err instanceof ApiError ? err.message : 'Sign-in failed';
    }
  }

  /** Sign out: forget the token and show the login form (with a message when not by choice). */
  signOut(reason: 'user' | 'expired' | 'rejected' = 'user', message = ''): void {
    clearTimeout(this.expiryTimer);
    this.client?.logout();
    const wasIn = this.me !== null;
    this.me = null;
    this.notice = reason === 'user' ? 'You are signed out.' : message;
    if (wasIn || reason !== 'user') emit(this, 'rattg-logout', { reason, message: this.notice });
  }

  private tabs(): Tab[] {
    const tabs: Tab[] = ['search', 'upload', 'documents'];
    if (this.me?.roles.includes('admin')) tabs.push('admin');
    return tabs;
  }

  private async selectTab(tab: Tab, focus = false): Promise<void> {
    this.tab = tab;
    emit(this, 'rattg-tab-change', { tab });
    if (focus) {
      await this.updateComplete;
      this.shadowRoot?.querySelector<HTMLElement>(`#tab-${tab}`)?.focus();
    }
  }

  /** Arrow keys, Home and End move between tabs (WAI-ARIA tabs pattern, automatic activation). */
  private onTabKey(e: KeyboardEvent): void {
    const tabs = this.tabs();
    const i = tabs.indexOf(this.tab);
    let next: number | null = null;
    if (e.key === 'ArrowRight') next = (i + 1) % tabs.length;
    else if (e.key === 'ArrowLeft') next = (i - 1 + tabs.length) % tabs.length;
    else if (e.key === 'Home') next = 0;
    else if (e.key === 'End') next = tabs.length - 1;
    if (next === null) return;
    e.preventDefault();
    void this.selectTab(tabs[next]!, true);
  }

  private panel(tab: Tab) {
    const user = this.me;
    switch (tab) {
      case 'search':
        return html`<rattg-search .client=${this.client}></rattg-search>`;
      case 'upload':
        return html`<rattg-upload .client=${this.client} .user=${user}></rattg-upload>`;
      case 'documents':
        return html`<rattg-documents .client=${this.client} .user=${user}></rattg-documents>`;
      case 'admin':
        return html`<rattg-admin .client=${this.client} .me=${user}></rattg-admin>`;
    }
  }

  /**
   * Signed in, the chat opens without a second sign-in: a one-minute ticket is posted to the chat
   * site's hand-off, which checks it came from this site. Any failure falls back to the plain
   * link (the chat site then asks to sign in).
   */
  private openChat = async (e: MouseEvent) => {
    const client = this.client;
    if (!this.me || !client || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey) return;
    // Only the chat site itself has a hand-off (a relative /openwebui is a redirect on this site).
    if (!/^https?:\/\//.test(this.chatUrl)) return;
    e.preventDefault();
    // Opened now, inside the click: a window opened after an await would be blocked as a pop-up.
    const name = `rattg-chat-${Date.now()}`;
    const win = window.open('about:blank', name);
    const base = this.chatUrl.replace(/\/+$/, '');
    try {
      const ticket = await client.chatTicket();
      const form = document.createElement('form');
      form.method = 'post';
      form.action = `${base}/chat-sso/handoff`;
      form.target = win ? name : '_self';
      const input = document.createElement('input');
      input.type = 'hidden';
      input.name = 'ticket';
      input.value = ticket;
      form.append(input);
      document.body.append(form);
      form.submit();
      form.remove();
    } catch {
      if (win) win.location.href = this.chatUrl;
      else window.location.href = this.chatUrl;
    }
  };

  override render() {
    const me = this.me;
    const tab = me && this.tabs().includes(this.tab) ? this.tab : 'search';
    return html`<div part="base">
      <header part="header">
        <p class="banner" part="banner">${this.banner}</p>
        <div class="who">
          ${this.chatUrl ? html`<a part="chat-link" href=${this.chatUrl} target="_blank" rel="noopener" @click=${this.openChat}>Open the chat</a>` : nothing}
          ${
            me
              ? html`<span part="user">Signed in as <strong>${me.username}</strong></span>
                  <button type="button" part="sign-out" @click=${() => this.signOut('user')}>
                    Sign out
                  </button>`
              : nothing
          }
        </div>
      </header>
      ${
        me
          ? html`<div role="tablist" part="tabs" aria-label="rattgllm" @keydown=${this.onTabKey}>
                ${this.tabs().map(
                  (t) =>
                    html`<button
                      role="tab"
                      part="tab"
                      id=${`tab-${t}`}
                      aria-selected=${t === tab ? 'true' : 'false'}
                      aria-controls="panel"
                      tabindex=${t === tab ? '0' : '-1'}
                      @click=${() => this.selectTab(t)}
                    >
                      ${TAB_LABELS[t]}
                    </button>`,
                )}
              </div>
              <div role="tabpanel" id="panel" part="panel" aria-labelledby=${`tab-${tab}`} tabindex="0">
                ${this.panel(tab)}
              </div>`
          : this.checking
            ? html`<p class="loading" role="status">Checking your session…</p>`
            : html`<rattg-login
                .client=${this.client}
                .notice=${this.notice}
                @rattg-login=${this.onLogin}
              ></rattg-login>`
      }
    </div>`;
  }
}

/** The `exp` claim of a JWT (seconds), read without verifying: only to time the sign-out. */
function tokenExpiry(token: string): number | null {
  try {
    const payload = token.split('.')[1];
    if (!payload) return null;
    const json = JSON.parse(atob(payload.replace(/-/g, '+').replace(/_/g, '/'))) as { exp?: unknown };
    return typeof json.exp === 'number' ? json.exp : null;
  } catch {
    return null;
  }
}
