import { html, type LitElement, type TemplateResult } from 'lit';

/**
 * The inline "are you sure?" of a destructive action (delete a document or an account, revoke a
 * key): a labelled group naming the object, the danger button first so it takes the focus.
 */
export function confirmGroup(o: {
  id: string;
  /** The group's accessible name, e.g. "Confirm deletion of q3.pdf". */
  label: string;
  question: string;
  confirmText: string;
  onConfirm: () => unknown;
  onCancel: () => unknown;
  /** The layout class of the host's styles. */
  className?: string;
}): TemplateResult {
  return html`<div class=${o.className ?? 'row'} role="group" aria-label=${o.label} data-confirm=${o.id}>
    <span>${o.question}</span>
    <button class="danger" type="button" @click=${o.onConfirm}>${o.confirmText}</button>
    <button type="button" @click=${o.onCancel}>Cancel</button>
  </div>`;
}

/** After rendering the confirmation of `id`, move the focus to its danger button. */
export async function focusConfirm(host: LitElement, id: string): Promise<void> {
  await host.updateComplete;
  host.shadowRoot?.querySelector<HTMLElement>(`[data-confirm="${id}"] button`)?.focus();
}
