import { LitElement, html } from 'lit';
import { property, query, state } from 'lit/decorators.js';
import { ApiError, type ApiClient, type SessionUser } from '../../lib/api.js';
import { emit } from '../../lib/emit.js';
import { sharedStyles } from '../../styles/shared.styles.js';
import { loginStyles } from './login.styles.js';

/**
 * Sign-in form: username and password. Shows the server's own error message and focuses the
 * first field when it appears.
 *
 * @event rattg-login - Signed in. `detail: { user }` (id, username, roles, groups).
 *
 * @csspart form - The form.
 * @csspart submit - The sign-in button.
 * @csspart message - The error or notice text.
 *
 * @cssproperty --rattg-color-primary - Button colour.
 * @cssproperty --rattg-color-danger - Error text colour.
 */
export class RattgLogin extends LitElement {
  static override styles = [sharedStyles, loginStyles];

  /** The API client (set by `rattg-widget`). */
  @property({ attribute: false }) accessor client: ApiClient | null = null;
  /** A notice shown above the form, e.g. why the user was signed out. */
  @property() accessor notice = '';

  @state() accessor error = '';
  @state() accessor busy = false;

  @query('#username') accessor usernameInput!: HTMLInputElement;
  @query('#password') accessor passwordInput!: HTMLInputElement;

  override firstUpdated(): void {
    this.usernameInput.focus();
  }

  private async submit(e: SubmitEvent): Promise<void> {
    e.preventDefault();
    if (!this.client || this.busy) return;
    this.error = '';
    this.busy = true;
    try {
      const { user } = await this.client.login(this.usernameInput.value.trim(), this.passwordInput.value);
      this.passwordInput.value = '';
      emit<{ user: SessionUser }>(this, 'rattg-login', { user });
    } catch (err) {
      this.error = err instanceof ApiError ? err.message : 'Sign-in failed';
      this.passwordInput.select();
    } finally {
      this.busy = false;
    }
  }

  override render() {
    return html`
      <form part="form" @submit=${this.submit} aria-labelledby="title" novalidate>
        <h2 id="title">Sign in</h2>
        ${
          this.notice && !this.error
            ? html`<p class="notice" part="message" role="status">${this.notice}</p>`
            : ''
        }
        <label for="username">Username</label>
        <input id="username" name="username" autocomplete="username" required />
        <label for="password">Password</label>
        <input id="password" name="password" type="password" autocomplete="current-password" required />
        <div class="error" part="message" role="alert" aria-live="assertive">${this.error}</div>
        <button class="primary" part="submit" type="submit" ?disabled=${this.busy}>
          ${this.busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    `;
  }
}
