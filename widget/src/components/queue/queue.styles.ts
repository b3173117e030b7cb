import { css } from 'lit';

export const queueStyles = css`
  section {
    border: 1px solid var(--_border);
    border-radius: var(--_radius);
    padding: 0.6em 0.9em;
    margin-bottom: 1em;
  }
  h2 {
    font-size: 1em;
    margin: 0 0 0.3em;
  }
  ol {
    list-style: none;
    margin: 0;
    padding: 0;
    display: grid;
    gap: 0.4em;
  }
  li {
    display: flex;
    flex-wrap: wrap;
    align-items: center;
    gap: 0.2em 0.8em;
    border-top: 1px solid var(--_border);
    padding-top: 0.4em;
  }
  .name {
    font-weight: 600;
    overflow-wrap: break-word;
    min-width: 0;
  }
  li[data-status='processing'] .where,
  li[data-status='waiting'] .where {
    color: var(--_warning);
  }
  progress {
    width: 8em;
    max-width: 100%;
  }
  button {
    margin-left: auto;
    padding: 0.2em 0.5em;
    font-size: 0.9em;
  }
`;
