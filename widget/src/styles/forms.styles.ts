import { css } from 'lit';

/** Sections, forms and compact table buttons of the account and admin tabs (and the key list). */
export const formStyles = css`
  section {
    margin-bottom: 1.6em;
  }
  h2 {
    font-size: 1.1em;
    margin: 0 0 0.6em;
  }
  .secret {
    border: 1px solid var(--_success);
    border-radius: var(--_radius);
    padding: 0.6em 0.9em;
    margin: 0.8em 0;
    display: grid;
    gap: 0.4em;
  }
  code {
    font-family: var(--rattg-font-mono, ui-monospace, monospace);
    overflow-wrap: anywhere;
    user-select: all;
  }
  fieldset {
    border: 1px solid var(--_border);
    border-radius: var(--_radius);
    margin: 0.5em 0;
  }
  .check {
    display: inline-flex;
    flex-direction: row;
    align-items: center;
    gap: 0.3em;
    font-weight: normal;
  }
  td .row {
    gap: 0.3em;
  }
  td button {
    padding: 0.2em 0.5em;
    font-size: 0.9em;
  }
`;
