import { css } from 'lit';

export const systemStatusStyles = css`
  section {
    margin-bottom: 1.6em;
  }
  .head {
    display: flex;
    flex-wrap: wrap;
    align-items: center;
    justify-content: space-between;
    gap: 0.6em;
    margin-bottom: 0.4em;
  }
  h2 {
    font-size: 1.1em;
    margin: 0;
  }
  .overall {
    margin: 0 0 0.6em;
  }
  /* Name and state on one line while there is room; the reason below, wrapping anywhere. */
  li {
    display: flex;
    flex-wrap: wrap;
    align-items: baseline;
    justify-content: space-between;
    gap: 0.2em 0.8em;
    border: 1px solid var(--_border);
    border-left: 4px solid var(--_state);
    border-radius: var(--_radius);
    padding: 0.45em 0.7em;
    min-width: 0;
  }
  li[data-status='ok'] {
    --_state: var(--_success);
  }
  li[data-status='degraded'] {
    --_state: var(--_warning);
  }
  li[data-status='down'] {
    --_state: var(--_danger);
  }
  .name {
    font-weight: 500;
    min-width: 0;
    overflow-wrap: anywhere;
  }
  .state {
    color: var(--_state, var(--_text));
    font-weight: 600;
    white-space: nowrap;
  }
  .reason {
    flex-basis: 100%;
    color: var(--_muted);
    font-size: 0.92em;
    overflow-wrap: anywhere;
  }
`;
