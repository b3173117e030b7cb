import { css } from 'lit';

export const adminStyles = css`
  .warning {
    border: 1px solid var(--_warning);
    color: var(--_warning);
    background: var(--_warning-bg);
    border-radius: var(--_radius);
    padding: 0.6em 0.9em;
    margin-bottom: 1em;
  }
`;
