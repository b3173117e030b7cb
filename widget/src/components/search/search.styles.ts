import { css } from 'lit';

export const searchStyles = css`
  form {
    display: flex;
    flex-wrap: wrap;
    gap: 0.5em;
    align-items: end;
  }
  form > label {
    flex: 1;
    min-width: 0;
  }
  .filters {
    flex-basis: 100%;
    display: flex;
    flex-wrap: wrap;
    align-items: end;
    gap: 0.4em 1em;
    margin: 0;
    border: 1px solid var(--_border);
    border-radius: var(--_radius);
    padding: 0.3em 0.8em 0.6em;
    min-width: 0;
    margin-bottom: 0.3em;
  }
  .filters legend {
    font-size: 0.9em;
  }
  .filters label {
    flex: 1 1 14em;
    min-width: 0;
    font-size: 0.9em;
  }
  .filters select,
  .filters input {
    width: 100%;
    max-width: 100%;
    box-sizing: border-box;
  }
  .weak {
    margin-top: 0.4em;
  }
  .layout {
    display: grid;
    grid-template-columns: minmax(0, 1fr) minmax(0, 1fr);
    gap: 1em;
    margin-top: 1em;
  }
  .layout.no-preview {
    grid-template-columns: minmax(0, 1fr);
  }
  ol {
    list-style: none;
    margin: 0;
    padding: 0;
    display: grid;
    gap: 0.6em;
    /* Beside a taller preview the rows keep their own height instead of stretching. */
    align-content: start;
  }
  .result {
    display: grid;
    gap: 0.2em;
    width: 100%;
    text-align: left;
    background: var(--_bg);
    padding: 0.6em 0.8em;
  }
  .result[aria-current='true'] {
    border-color: var(--_primary);
    background: var(--_surface);
  }
  .meta {
    font-size: 0.85em;
    color: var(--_muted);
  }
  .passage {
    white-space: pre-wrap;
    overflow-wrap: anywhere;
  }
  mark {
    background: var(--_highlight);
    color: inherit;
    padding: 0 0.1em;
    border-radius: 2px;
  }
  aside {
    border: 1px solid var(--_border);
    border-radius: var(--_radius);
    padding: 0.8em 1em;
    background: var(--_surface);
    align-self: start;
    position: sticky;
    top: 0.5em;
    max-height: 80vh;
    overflow: auto;
  }
  aside h3 {
    margin: 0 0 0.3em;
    overflow-wrap: anywhere;
  }
  .context .passage {
    opacity: 0.75;
  }
  .context .passage.current {
    opacity: 1;
    border-left: 3px solid var(--_primary);
    padding-left: 0.5em;
  }
  @container (max-width: 44em) {
    .layout {
      grid-template-columns: minmax(0, 1fr);
    }
  }
`;
