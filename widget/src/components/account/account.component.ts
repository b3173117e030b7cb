import { LitElement, html, nothing } from 'lit';
import { property, state } from 'lit/decorators.js';
import { ApiError, type ApiClient, type ApiKeyInfo, type Me } from '../../lib/api.js';
import { emit } from '../../lib/emit.js';
import { EXPIRY_DAYS, SCOPE_LABELS, expiryLabel } from '../../lib/keys.js';
import { sharedStyles } from '../../styles/shared.styles.js';
import { formStyles } from '../../styles/forms.styles.js';
import { accountStyles } from './account.styles.js';
import '../key-list/key-list.js';

/**
 * "My account", for every user: change the password, and the user's own API keys — create one
 * with a scope narrower than the user's roles (read and search, chat, upload, admin for admins)
 * and an expiry (the secret is shown once), list them, revoke after a confirmation naming the key.
 *
 * @event rattg-account-change - The password or a key changed. `detail: { kind: 'password' | 'api-key', op, id? }`.
 *
 * @csspart password - The change-password form.
 * @csspart keys - The table of the user's API keys.
 * @csspart secret - The box that shows a new key's secret once.
 */
export class RattgAccount extends LitElement {
  static override styles = [sharedStyles, formStyles, accountStyles];

  @property({ attribute: false }) accessor client: ApiClient | null = null;
  @property({ attribute: false }) accessor me: Me | null = null;

  @state() accessor keys: ApiKeyInfo[] = [];
  @state() accessor secret: { name: string; key: string } | null = null;
  @state() accessor fieldErrors: Record<string, string> = {};
  @state() accessor message = '';
  @state() accessor error = '';

  override updated(changed: Map<PropertyKey, unknown>): void {
    if (changed.has('client') && this.client) void this.load();
  }

  async load(): Promise<void> {
    if (!this.client) return;
    try {
      this.keys = (await this.client.request<{ keys: ApiKeyInfo[] }>('GET', '/api-keys')).keys;
    } catch (err) {
      this.error = err instanceof ApiError ? err.message : 'Could not load your API keys';
    }
  }

  private say(message: string, error = ''): void {
    this.message = message;
    this.error = error;
  }

  private async changePassword(e: SubmitEvent): Promise<void> {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const v = Object.fromEntries(new FormData(form)) as Record<string, string>;
    const errors: Record<string, string> = {};
    if (!v.currentPassword) errors.currentPassword = 'Enter your current password.';
    if ((v.newPassword ?? '').length < 8)
      errors.newPassword = 'The new password needs at least 8 characters.';
    else if (v.newPassword !== v.repeatPassword) errors.repeatPassword = 'The two new passwords differ.';
    this.fieldErrors = errors;
    if (Object.keys(errors).length) return;
    try {
      await this.client!.request('POST', '/auth/password', {
        currentPassword: v.currentPassword,
        newPassword: v.newPassword,
      });
      form.reset();
      this.say('Your password is changed. Use the new one next time you sign in.');
      emit(this, 'rattg-account-change', { kind: 'password', op: 'update' });
    } catch (err) {
      if (err instanceof ApiError && err.code === 'WRONG_PASSWORD')
        this.fieldErrors = { currentPassword: 'That is not your current password.' };
      else if (err instanceof ApiError && err.code === 'SAME_PASSWORD')
        this.fieldErrors = { newPassword: 'The new password must differ from the current one.' };
      else if (err instanceof ApiError && Object.keys(err.fields).length) this.fieldErrors = err.fields;
      else this.say('', err instanceof ApiError ? err.message : 'The password was not changed');
    }
  }

  private async createKey(e: SubmitEvent): Promise<void> {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const name = (new FormData(form).get('name') as string | null)?.trim() ?? '';
    const scopes = [...form.querySelectorAll<HTMLInputElement>('input[name="scope"]:checked')].map(
      (i) => i.value,
    );
    const days = Number(new FormData(form).get('expiry'));
    const errors: Record<string, string> = {};
    if (!name) errors.name = 'Give the key a name, e.g. where it is used.';
    if (!scopes.length) errors.scopes = 'Choose at least one thing the key may do.';
    this.fieldErrors = errors;
    if (Object.keys(errors).length) return;
    try {
      const created = await this.client!.request<ApiKeyInfo & { key: string }>('POST', '/api-keys', {
        name,
        scopes,
        ...(days ? { expiresAt: new Date(Date.now() + days * 86400_000).toISOString() } : {}),
      });
      const { key, ...info } = created;
      this.keys = [info, ...this.keys];
      this.secret = { name: info.name, key };
      this.say(`API key ${name} created: copy it now, it will not be shown again`);
      emit(this, 'rattg-account-change', { kind: 'api-key', op: 'create', id: info.id });
      form.reset();
      await this.updateComplete;
      this.shadowRoot?.querySelector<HTMLElement>('.secret button')?.focus();
    } catch (err) {
      if (err instanceof ApiError && Object.keys(err.fields).length) this.fieldErrors = err.fields;
      else this.say('', err instanceof ApiError ? err.message : 'The key was not created');
    }
  }

  private async copySecret(): Promise<void> {
    if (!this.secret) return;
    try {
      await navigator.clipboard.writeText(this.secret.key);
      this.say('Copied to the clipboard');
    } catch {
      this.say('Copying is blocked here: select the key and copy it by hand');
    }
  }

  /** The key list revoked one: keep our copy in step (it is handed back on the next render). */
  private revoked(e: CustomEvent<{ key: ApiKeyInfo }>): void {
    const k = e.detail.key;
    this.keys = this.keys.map((x) => (x.id === k.id ? { ...x, revokedAt: new Date().toISOString() } : x));
    this.say(`API key ${k.name} revoked`);
    emit(this, 'rattg-account-change', { kind: 'api-key', op: 'revoke', id: k.id });
  }

  private fieldError(name: string) {
    return html`<div id=${`${name}-error`} class="error field-error">${this.fieldErrors[name] ?? ''}</div>`;
  }

  private passwordInput(name: string, label: string, autocomplete: string) {
    return html`<label
        >${label}
        <input
          name=${name}
          type="password"
          autocomplete=${autocomplete}
          aria-invalid=${this.fieldErrors[name] ? 'true' : 'false'}
          aria-describedby=${`${name}-error`}
      /></label>
      ${this.fieldError(name)}`;
  }

  override render() {
    const scopes = Object.keys(SCOPE_LABELS).filter((s) => s !== 'admin' || this.me?.roles.includes('admin'));
    return html`
      <div role="status" aria-live="polite" class="muted">${this.message}</div>
      <div class="error" role="alert">${this.error}</div>
      <section aria-labelledby="password-title">
        <h2 id="password-title">Change password</h2>
        <form
          class="stacked"
          part="password"
          aria-label="Change password"
          novalidate
          @submit=${this.changePassword}
        >
          ${this.passwordInput('currentPassword', 'Current password', 'current-password')}
          ${this.passwordInput('newPassword', 'New password (8 characters or more)', 'new-password')}
          ${this.passwordInput('repeatPassword', 'New password again', 'new-password')}
          <button class="primary" type="submit">Change password</button>
        </form>
      </section>
      <section aria-labelledby="keys-title">
        <h2 id="keys-title">My API keys</h2>
        <p class="muted">
          For scripts and tools. A key can do only what you choose here, and never more than you.
        </p>
        ${
          this.secret
            ? html`<div class="secret" part="secret">
                <span>Secret of <strong>${this.secret.name}</strong> — shown only now:</span>
                <code>${this.secret.key}</code>
                <span class="row">
                  <button type="button" @click=${this.copySecret}>Copy</button>
                  <button type="button" @click=${() => (this.secret = null)}>I have saved it</button>
                </span>
              </div>`
            : nothing
        }
        ${
          this.keys.length
            ? html`<rattg-key-list
                exportparts="keys"
                .client=${this.client}
                .keys=${this.keys}
                @rattg-key-revoked=${this.revoked}
                @rattg-key-error=${(e: CustomEvent<{ message: string }>) => this.say('', e.detail.message)}
              ></rattg-key-list>`
            : html`<p class="muted">You have no API keys yet.</p>`
        }
        <h3>New API key</h3>
        <form class="stacked" aria-label="New API key" novalidate @submit=${this.createKey}>
          <label
            >Key name
            <input name="name" maxlength="100" autocomplete="off" aria-describedby="name-error" />
          </label>
          ${this.fieldError('name')}
          <fieldset aria-describedby="scopes-error">
            <legend>The key may</legend>
            ${scopes.map(
              (s) =>
                html`<label class="check"
                  ><input
                    type="checkbox"
                    name="scope"
                    value=${s}
                    ?checked=${s === 'read'}
                  />${SCOPE_LABELS[s]}</label
                >`,
            )}
          </fieldset>
          ${this.fieldError('scopes')}
          <label
            >Expires after
            <select name="expiry">
              ${EXPIRY_DAYS.map((d) => html`<option value=${d} ?selected=${d === 90}>${expiryLabel(d)}</option>`)}
            </select>
          </label>
          <button class="primary" type="submit">Create API key</button>
        </form>
      </section>
    `;
  }
}
