import { LitElement, html, nothing } from 'lit';
import { property, state } from 'lit/decorators.js';
import { ApiError, type ApiClient, type ApiKeyInfo } from '../../lib/api.js';
import { emit } from '../../lib/emit.js';
import { keyState, scopeWords } from '../../lib/keys.js';
import { sharedStyles } from '../../styles/shared.styles.js';
import { formStyles } from '../../styles/forms.styles.js';
import { confirmGroup, focusConfirm } from '../../lib/confirm.js';

/**
 * A table of API keys — name and prefix, (owner), what it may do, expiry, last use — with a
 * Revoke that asks first, naming the key (and its owner, when shown). Used by "My account" (your
 * keys) and the admin tab (everyone's, with `show-owner`).
 *
 * @event rattg-key-revoked - A key was revoked. `detail: { key }`.
 * @event rattg-key-error - Revoking failed. `detail: { message }`.
 *
 * @csspart keys - The table.
 */
export class RattgKeyList extends LitElement {
  static override styles = [sharedStyles, formStyles];

  @property({ attribute: false }) accessor client: ApiClient | null = null;
  @property({ attribute: false }) accessor keys: ApiKeyInfo[] = [];
  /** Show each key's owner (the admin's list of every key). */
  @property({ type: Boolean, attribute: 'show-owner' }) accessor showOwner = false;

  @state() accessor confirming: string | null = null;

  private whose(k: ApiKeyInfo): string {
    return this.showOwner && k.owner ? ` of ${k.owner}` : '';
  }

  private async askRevoke(k: ApiKeyInfo): Promise<void> {
    this.confirming = k.id;
    await focusConfirm(this, k.id);
  }

  private async revoke(k: ApiKeyInfo): Promise<void> {
    this.confirming = null;
    try {
      await this.client!.request('DELETE', `/api-keys/${k.id}`);
      this.keys = this.keys.map((x) => (x.id === k.id ? { ...x, revokedAt: new Date().toISOString() } : x));
      emit(this, 'rattg-key-revoked', { key: k });
    } catch (err) {
      emit(this, 'rattg-key-error', {
        message: err instanceof ApiError ? err.message : 'The key was not revoked',
      });
    }
  }

  private actions(k: ApiKeyInfo) {
    const gone = keyState(k);
    if (gone) return html`<span class="badge">${gone}</span>`;
    if (this.confirming === k.id)
      return confirmGroup({
        id: k.id,
        label: `Confirm revoking ${k.name}`,
        question: `Revoke “${k.name}”${this.whose(k)}? What uses it stops working.`,
        confirmText: 'Yes, revoke',
        onConfirm: () => this.revoke(k),
        onCancel: () => (this.confirming = null),
      });
    return html`<button
      class="danger"
      type="button"
      @click=${() => this.askRevoke(k)}
      aria-label=${`Revoke ${k.name}${this.whose(k)}`}
    >
      Revoke
    </button>`;
  }

  override render() {
    return html`<table part="keys" class="stack">
      <thead>
        <tr>
          <th scope="col">Name</th>
          ${this.showOwner ? html`<th scope="col">Owner</th>` : nothing}
          <th scope="col">May do</th>
          <th scope="col">Expires</th>
          <th scope="col">Last used</th>
          <th scope="col">Actions</th>
        </tr>
      </thead>
      <tbody>
        ${this.keys.map(
          (k) =>
            html`<tr data-key=${k.name} data-owner=${k.owner ?? ''}>
              <td data-label="Name">${k.name} <code>${k.prefix}</code></td>
              ${this.showOwner ? html`<td data-label="Owner">${k.owner ?? ''}</td>` : nothing}
              <td data-label="May do">${k.scopes ? scopeWords(k.scopes) : this.unscoped(k)}</td>
              <td data-label="Expires">
                ${k.expiresAt ? new Date(k.expiresAt).toLocaleDateString() : 'never'}
              </td>
              <td data-label="Last used">
                ${k.lastUsedAt ? new Date(k.lastUsedAt).toLocaleString() : 'never'}
              </td>
              <td data-label="Actions">${this.actions(k)}</td>
            </tr>`,
        )}
      </tbody>
    </table>`;
  }

  /** A key that is not narrowed: everything its owner may do (the admin sees which roles). */
  private unscoped(k: ApiKeyInfo): string {
    return this.showOwner ? `roles: ${k.roles.join(', ')}` : scopeWords(null);
  }
}
