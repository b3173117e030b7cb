import { LitElement, html, nothing } from 'lit';
import { property, state } from 'lit/decorators.js';
import { ApiError, type ApiClient, type ApiKeyInfo, type Me, type UserInfo } from '../../lib/api.js';
import { emit } from '../../lib/emit.js';
import { sharedStyles } from '../../styles/shared.styles.js';
import { formStyles } from '../../styles/forms.styles.js';
import { adminStyles } from './admin.styles.js';
import '../system-status/system-status.js';
import '../key-list/key-list.js';
import { checkedRoles, formValues, groupList, roleBoxes } from './admin.parts.js';
import { confirmGroup, focusConfirm } from '../../lib/confirm.js';

/**
 * Administration: the system status (rattg-system-status), users (create, change roles/groups/email, reset password, disable, delete) and
 * everyone's API keys with their owners (revoke after a confirmation; each user makes their own in
 * rattg-account). Warns when the server runs with published demo secrets.
 *
 * @event rattg-admin-change - Users or keys changed. `detail: { kind: 'user' | 'api-key', op, id }`.
 *
 * @csspart warning - The insecure-defaults warning.
 * @csspart users - The users table.
 * @csspart keys - The API keys table.
 * @csspart account-kind - "you" or "service account" next to a name: accounts that cannot be deleted here.
 *
 * @cssproperty --rattg-color-warning - Warning text and border colour.
 * @cssproperty --rattg-color-warning-bg - Warning background.
 */
export class RattgAdmin extends LitElement {
  static override styles = [sharedStyles, formStyles, adminStyles];

  @property({ attribute: false }) accessor client: ApiClient | null = null;
  /** `GET /auth/me` of the signed-in admin (for the insecure-defaults warning). */
  @property({ attribute: false }) accessor me: Me | null = null;

  @state() accessor users: UserInfo[] = [];
  @state() accessor keys: ApiKeyInfo[] = [];
  @state() accessor editing: string | null = null;
  @state() accessor confirming: string | null = null;
  @state() accessor message = '';
  @state() accessor error = '';

  override updated(changed: Map<PropertyKey, unknown>): void {
    if (changed.has('client') && this.client) void this.load();
  }

  async load(): Promise<void> {
    if (!this.client) return;
    try {
      const [u, k] = await Promise.all([
        this.client.request<{ users: UserInfo[] }>('GET', '/users'),
        this.client.request<{ keys: ApiKeyInfo[] }>('GET', '/api-keys?all=true'),
      ]);
      this.users = u.users;
      this.keys = k.keys;
    } catch (err) {
      this.error = err instanceof ApiError ? err.message : 'Could not load users and keys';
    }
  }

  private async run(what: () => Promise<unknown>, done: string): Promise<boolean> {
    this.error = '';
    try {
      await what();
      this.message = done;
      return true;
    } catch (err) {
      this.error = err instanceof ApiError ? err.message : 'That did not work';
      this.message = '';
      return false;
    }
  }

  private async createUser(e: SubmitEvent): Promise<void> {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const v = formValues(form);
    const roles = checkedRoles(form);
    const ok = await this.run(async () => {
      const user = await this.client!.request<UserInfo>('POST', '/users', {
        username: v.username,
        password: v.password,
        ...(v.email ? { email: v.email } : {}),
        roles: roles.length ? roles : ['user'],
        groups: groupList(v.groups),
      });
      this.users = [...this.users, user];
      emit(this, 'rattg-admin-change', { kind: 'user', op: 'create', id: user.id });
    }, `User ${v.username} created`);
    if (ok) form.reset();
  }

  private async saveUser(e: SubmitEvent, user: UserInfo): Promise<void> {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const v = formValues(form);
    // Your own account has no Disabled box (you cannot lock yourself out).
    const disabled = form.querySelector<HTMLInputElement>('input[type="checkbox"][name="disabled"]')?.checked;
    const ok = await this.run(async () => {
      const updated = await this.client!.request<UserInfo>('PATCH', `/users/${user.id}`, {
        email: v.email ? v.email : null,
        roles: checkedRoles(form),
        groups: groupList(v.groups),
        ...(disabled !== undefined ? { disabled } : {}),
        ...(v.password ? { password: v.password } : {}),
      });
      this.users = this.users.map((u) => (u.id === user.id ? updated : u));
      emit(this, 'rattg-admin-change', { kind: 'user', op: 'update', id: user.id });
    }, `User ${user.username} saved`);
    if (ok) this.editing = null;
  }

  private async askDelete(user: UserInfo): Promise<void> {
    this.confirming = user.id;
    await focusConfirm(this, user.id);
  }

  private async deleteUser(user: UserInfo): Promise<void> {
    this.confirming = null;
    await this.run(async () => {
      await this.client!.request('DELETE', `/users/${user.id}`);
      this.users = this.users.filter((u) => u.id !== user.id);
      emit(this, 'rattg-admin-change', { kind: 'user', op: 'delete', id: user.id });
    }, `User ${user.username} deleted`);
  }

  private keyRevoked(e: CustomEvent<{ key: ApiKeyInfo }>): void {
    const key = e.detail.key;
    this.keys = this.keys.map((k) => (k.id === key.id ? { ...k, revokedAt: new Date().toISOString() } : k));
    this.error = '';
    this.message = `API key ${key.name} of ${key.owner ?? 'its owner'} revoked`;
    emit(this, 'rattg-admin-change', { kind: 'api-key', op: 'revoke', id: key.id });
  }

  /** Why this account cannot be deleted here (the API refuses it too), or '' when it can. */
  private undeletable(u: UserInfo): string {
    if (u.id === this.me?.id) return 'you';
    if (u.roles.includes('service')) return 'service account';
    return '';
  }

  private renderUser(u: UserInfo) {
    const self = u.id === this.me?.id;
    const undeletable = this.undeletable(u);
    if (this.editing === u.id)
      return html`<tr data-user=${u.username}>
        <td colspan="5">
          <form
            class="row"
            @submit=${(e: SubmitEvent) => this.saveUser(e, u)}
            aria-label=${`Edit ${u.username}`}
          >
            <strong>${u.username}</strong>
            <label>Email <input name="email" type="email" .value=${u.email ?? ''} /></label>
            <label>Groups (comma-separated) <input name="groups" .value=${u.groups.join(', ')} /></label>
            <label
              >New password
              <input
                name="password"
                type="password"
                autocomplete="new-password"
                minlength="8"
                placeholder="unchanged"
            /></label>
            ${roleBoxes(u.roles, `edit-${u.id}`)}
            ${
              self
                ? html`<input type="hidden" name="disabled" value="" />`
                : html`<label class="check"
                    ><input type="checkbox" name="disabled" ?checked=${u.disabled} />Disabled</label
                  >`
            }
            <button class="primary" type="submit">Save</button>
            <button type="button" @click=${() => (this.editing = null)}>Cancel</button>
          </form>
        </td>
      </tr>`;
    return html`<tr data-user=${u.username}>
      <td data-label="Username">
        ${u.username}${u.disabled ? html` <span class="badge">disabled</span>` : nothing}
        ${undeletable ? html` <span class="badge" part="account-kind">${undeletable}</span>` : nothing}
      </td>
      <td data-label="Email">${u.email ?? ''}</td>
      <td data-label="Roles">${u.roles.join(', ')}</td>
      <td data-label="Groups">${u.groups.join(', ')}</td>
      <td data-label="Actions">
        ${
          this.confirming === u.id
            ? confirmGroup({
                id: u.id,
                label: `Confirm deletion of ${u.username}`,
                question: `Delete the account “${u.username}” and its API keys?`,
                confirmText: `Yes, delete ${u.username}`,
                onConfirm: () => this.deleteUser(u),
                onCancel: () => (this.confirming = null),
              })
            : html`<div class="row">
                <button
                  type="button"
                  @click=${() => (this.editing = u.id)}
                  aria-label=${`Edit ${u.username}`}
                >
                  Edit
                </button>
                ${
                  undeletable
                    ? nothing
                    : html`<button
                        class="danger"
                        type="button"
                        @click=${() => this.askDelete(u)}
                        aria-label=${`Delete ${u.username}`}
                      >
                        Delete
                      </button>`
                }
              </div>`
        }
      </td>
    </tr>`;
  }

  override render() {
    const insecure = this.me?.security?.insecureDefaults ?? [];
    return html`
      ${
        insecure.length
          ? html`<div class="warning" part="warning" role="alert">
              <strong>Insecure defaults:</strong> the server still uses the published demo values of
              ${insecure.join(', ')}. Set your own secrets in <code>.env</code> and restart.
            </div>`
          : nothing
      }
      <div role="status" aria-live="polite" class="muted">${this.message}</div>
      <div class="error" role="alert">${this.error}</div>

      ${
        // The tab is shown to admins only; this also keeps it away from anyone who embeds
        // rattg-admin by hand without being one.
        this.me?.roles.includes('admin')
          ? html`<rattg-system-status .client=${this.client}></rattg-system-status>`
          : nothing
      }

      <section aria-labelledby="users-title">
        <h2 id="users-title">Users</h2>
        <table part="users" class="stack">
          <thead>
            <tr>
              <th scope="col">Username</th>
              <th scope="col">Email</th>
              <th scope="col">Roles</th>
              <th scope="col">Groups</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            ${this.users.map((u) => this.renderUser(u))}
          </tbody>
        </table>
        <h3>New user</h3>
        <form class="row" @submit=${this.createUser} aria-label="New user">
          <label>Username <input name="username" required autocomplete="off" /></label>
          <label
            >Password
            <input name="password" type="password" required minlength="8" autocomplete="new-password"
          /></label>
          <label>Email <input name="email" type="email" autocomplete="off" /></label>
          <label>Groups (comma-separated) <input name="groups" autocomplete="off" /></label>
          ${roleBoxes(['user'], 'new')}
          <button class="primary" type="submit">Create user</button>
        </form>
      </section>

      <section aria-labelledby="keys-title">
        <h2 id="keys-title">All API keys</h2>
        <p class="muted">Everyone's keys, with their owners. Your own keys are made in My account.</p>
        <rattg-key-list
          show-owner
          exportparts="keys"
          .client=${this.client}
          .keys=${this.keys}
          @rattg-key-revoked=${this.keyRevoked}
          @rattg-key-error=${(e: CustomEvent<{ message: string }>) => ((this.message = ''), (this.error = e.detail.message))}
        ></rattg-key-list>
      </section>
    `;
  }
}
