import { css } from 'lit';

/**
 * Shared look of every rattg-* component. Everything is themable from the host page through the
 * custom properties below (set them on `rattg-widget` or any ancestor) and through `::part`.
 * The defaults follow `prefers-color-scheme`; a host page's own `--rattg-color-*` always wins.
 * Every component is a size container, so its layout follows the room it gets (a sidebar or a
 * phone), not the window: tables with class `stack` become one card per row below 40em.
 */
export const sharedStyles = css`
  :host {
    --_primary: var(--rattg-color-primary, #1d5fbf);
    --_on-primary: var(--rattg-color-on-primary, #fff);
    --_text: var(--rattg-color-text, #1b1f24);
    --_muted: var(--rattg-color-muted, #57606a);
    --_bg: var(--rattg-color-bg, #fff);
    --_surface: var(--rattg-color-surface, #f5f7fa);
    --_border: var(--rattg-color-border, #c9d1d9);
    --_danger: var(--rattg-color-danger, #b42318);
    --_success: var(--rattg-color-success, #1a7f37);
    --_warning: var(--rattg-color-warning, #9a6700);
    --_radius: var(--rattg-radius, 6px);
    --_focus: var(--rattg-focus-ring, 0 0 0 3px rgba(29, 95, 191, 0.45));
    --_highlight: var(--rattg-color-highlight, #fff3a3);
    --_warning-bg: var(--rattg-color-warning-bg, #fff8e5);
    --_drop: var(--rattg-color-drop, #e8f0fc);
    display: block;
    container-type: inline-size;
    box-sizing: border-box;
    color: var(--_text);
    font-family: var(--rattg-font, system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif);
    font-size: var(--rattg-font-size, 15px);
    line-height: 1.45;
  }
  @media (prefers-color-scheme: dark) {
    :host {
      --_primary: var(--rattg-color-primary, #4b8eef);
      --_on-primary: var(--rattg-color-on-primary, #fff);
      --_text: var(--rattg-color-text, #e6edf3);
      --_muted: var(--rattg-color-muted, #9da7b3);
      --_bg: var(--rattg-color-bg, #0d1117);
      --_surface: var(--rattg-color-surface, #161b22);
      --_border: var(--rattg-color-border, #3d444d);
      --_danger: var(--rattg-color-danger, #ff7b72);
      --_success: var(--rattg-color-success, #3fb950);
      --_warning: var(--rattg-color-warning, #d29922);
      --_focus: var(--rattg-focus-ring, 0 0 0 3px rgba(75, 142, 239, 0.55));
      --_highlight: var(--rattg-color-highlight, #6b5a00);
      --_warning-bg: var(--rattg-color-warning-bg, #2d2305);
      --_drop: var(--rattg-color-drop, #15243d);
      color-scheme: dark;
    }
  }
  :host([hidden]) {
    display: none;
  }
  *,
  *::before,
  *::after {
    box-sizing: inherit;
  }
  button,
  input,
  select,
  textarea {
    font: inherit;
    color: inherit;
  }
  input,
  select,
  textarea {
    border: 1px solid var(--_border);
    border-radius: var(--_radius);
    padding: 0.4em 0.55em;
    background: var(--_bg);
    min-width: 0;
  }
  button {
    cursor: pointer;
    border: 1px solid var(--_border);
    border-radius: var(--_radius);
    padding: 0.4em 0.9em;
    background: var(--_surface);
  }
  button.primary {
    background: var(--_primary);
    border-color: var(--_primary);
    color: var(--_on-primary);
  }
  button.danger {
    color: var(--_danger);
    border-color: var(--_danger);
    background: var(--_bg);
  }
  button:disabled {
    opacity: 0.6;
    cursor: not-allowed;
  }
  button:focus-visible,
  input:focus-visible,
  select:focus-visible,
  textarea:focus-visible,
  a:focus-visible,
  [tabindex]:focus-visible {
    outline: 2px solid var(--_primary);
    outline-offset: 1px;
    box-shadow: var(--_focus);
  }
  a {
    color: var(--_primary);
  }
  label {
    display: grid;
    gap: 0.2em;
    font-weight: 500;
  }
  .row {
    display: flex;
    flex-wrap: wrap;
    gap: 0.6em;
    align-items: end;
  }
  .error {
    color: var(--_danger);
  }
  .muted {
    color: var(--_muted);
  }
  .sr-only {
    position: absolute;
    width: 1px;
    height: 1px;
    padding: 0;
    margin: -1px;
    overflow: hidden;
    clip: rect(0, 0, 0, 0);
    white-space: nowrap;
    border: 0;
  }
  progress {
    width: 100%;
    height: 0.6em;
    accent-color: var(--_primary);
  }
  table {
    border-collapse: collapse;
    width: 100%;
  }
  th,
  td {
    text-align: left;
    padding: 0.4em 0.5em;
    border-bottom: 1px solid var(--_border);
    vertical-align: top;
  }
  /* A phone (or a narrow column): one card per row, each cell labelled by its data-label. */
  @container (max-width: 40em) {
    table.stack,
    table.stack tbody,
    table.stack tr,
    table.stack td {
      display: block;
      width: 100%;
    }
    table.stack thead {
      position: absolute;
      width: 1px;
      height: 1px;
      overflow: hidden;
      clip: rect(0, 0, 0, 0);
    }
    table.stack tr {
      border: 1px solid var(--_border);
      border-radius: var(--_radius);
      margin-bottom: 0.6em;
      padding: 0.3em 0.2em;
    }
    table.stack td {
      border: none;
      padding: 0.25em 0.5em;
    }
    table.stack td[data-label]::before {
      content: attr(data-label);
      display: block;
      font-size: 0.8em;
      font-weight: 600;
      color: var(--_muted);
    }
  }
  .badge {
    display: inline-block;
    border-radius: 999px;
    padding: 0.05em 0.6em;
    font-size: 0.85em;
    border: 1px solid currentColor;
    white-space: nowrap;
  }
`;

/** A list of status rows without bullets (the queue, the system status): rows 0.4em apart. */
export const statusListStyles = css`
  ol,
  ul {
    list-style: none;
    margin: 0;
    padding: 0;
    display: grid;
    gap: 0.4em;
  }
`;
