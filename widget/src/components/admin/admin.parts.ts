import { html } from 'lit';

/** Form helpers of the admin tab's user forms. */

const ROLES = ['admin', 'user', 'service'] as const;

export function formValues(form: HTMLFormElement): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of new FormData(form)) if (typeof v === 'string') out[k] = v.trim();
  return out;
}

export function checkedRoles(form: HTMLFormElement): string[] {
  return [...form.querySelectorAll<HTMLInputElement>('input[name="role"]:checked')].map((i) => i.value);
}

export function groupList(text: string | undefined): string[] {
  return [
    ...new Set(
      (text ?? '')
        .split(',')
        .map((g) => g.trim())
        .filter(Boolean),
    ),
  ];
}

/** The role checkboxes of a user form. */
export function roleBoxes(current: string[], idPrefix: string) {
  return html`<fieldset>
    <legend>Roles</legend>
    ${ROLES.map(
      (r) =>
        html`<label class="check" for=${`${idPrefix}-${r}`}>
          <input
            type="checkbox"
            id=${`${idPrefix}-${r}`}
            name="role"
            value=${r}
            ?checked=${current.includes(r)}
          />${r}
        </label>`,
    )}
  </fieldset>`;
}
