import { LitElement, html } from 'lit';
import { property, query, state } from 'lit/decorators.js';
import { ApiError, type ApiClient, type SessionUser } from '../../lib/api.js';
import { emit } from '../../lib/emit.js';
import { sharedStyles } from '../../styles/shared.styles.js';
import { loginStyles } from './login.styles.js';

/**
 * Sign-in form: username and password. An empty field is named next to it before anything is
 * sent; the server's own message is shown otherwise. Focuses the first field when it appears.
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
  /** A sentence per field (empty fields checked here, the rest from the server's 400). */
  @state() accessor fieldErrors: Record<string, string> = {};
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
    const username = this.usernameInput.value.trim();
    const password = this.passwordInput.value;
    const missing: Record<string, string> = {};
    if (!username) missing.username = 'Enter your username.';
    if (!password) missing.password = 'Enter your password.';
    this.fieldErrors = missing;
    if (missing.username || missing.password) {
      (missing.username ? this.usernameInput : this.passwordInput).focus();
      return;
    }
    this.busy = true;
    try {
      const { user } = await this.client.login(username, password);
      this.passwordInput.value = '';
      emit<{ user: SessionUser }>(this, 'rattg-login', { user });
    } catch (err) {
      if (err instanceof ApiError && Object.keys(err.fields).length) this.fieldErrors = err.fields;
      else this.error = err instanceof ApiError ? err.message : 'Sign-in failed';
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
        <input
          id="username"
          name="username"
          autocomplete="username"
          required
          aria-invalid=${this.fieldErrors.username ? 'true' : 'false'}
          aria-describedby="username-error"
        />
        <div id="username-error" class="error field-error">${this.fieldErrors.username ?? ''}</div>
        <label for="password">Password</label>
        <input
          id="password"
          name="password"
          type="password"
          autocomplete="current-password"
          required
          aria-invalid=${this.fieldErrors.password ? 'true' : 'false'}
          aria-describedby="password-error"
        />
        <div id="password-error" class="error field-error">${this.fieldErrors.password ?? ''}</div>
        <div class="error" part="message" role="alert" aria-live="assertive">${this.error}</div>
        <button class="primary" part="submit" type="submit" ?disabled=${this.busy}>
          ${this.busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    `;
  }
}
