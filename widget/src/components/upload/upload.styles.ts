import { css } from 'lit';

export const uploadStyles = css`
  .zone {
    border: 2px dashed var(--_border);
    border-radius: var(--_radius);
    padding: 1.5em;
    text-align: center;
    background: var(--_surface);
  }
  .zone.over {
    border-color: var(--_primary);
    background: var(--_drop);
  }
  .options {
    margin: 1em 0;
  }
  ul {
    list-style: none;
    padding: 0;
    margin: 1em 0 0;
    display: grid;
    gap: 0.7em;
  }
  li {
    display: grid;
    gap: 0.25em;
    padding: 0.5em 0.7em;
    border: 1px solid var(--_border);
    border-radius: var(--_radius);
  }
  .name {
    font-weight: 600;
    overflow-wrap: break-word;
  }
  .state-done {
    color: var(--_success);
  }
  .state-duplicate {
    color: var(--_warning);
  }
  .state-error {
    color: var(--_danger);
  }
`;
