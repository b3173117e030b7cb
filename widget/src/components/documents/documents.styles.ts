import { css } from 'lit';

export const documentsStyles = css`
  .toolbar {
    margin-bottom: 0.8em;
  }
  .name {
    font-weight: 600;
    overflow-wrap: break-word;
  }
  .badge[data-status='indexed'] {
    color: var(--_success);
  }
  .badge[data-status='failed'],
  .badge[data-status='cancelled'] {
    color: var(--_danger);
  }
  .badge[data-status='processing'],
  .badge[data-status='waiting'],
  .badge[data-status='pending'] {
    color: var(--_warning);
  }
  .actions {
    display: flex;
    flex-wrap: wrap;
    gap: 0.3em;
  }
  .actions button,
  .actions select {
    padding: 0.2em 0.5em;
    font-size: 0.9em;
  }
  .confirm {
    display: flex;
    gap: 0.4em;
    align-items: center;
    flex-wrap: wrap;
  }
  .path {
    overflow-wrap: anywhere;
    font-size: 0.85em;
  }
  th .sort {
    border: none;
    background: none;
    padding: 0;
    font-weight: 600;
  }
  .pager {
    justify-content: space-between;
    align-items: center;
    margin-top: 0.8em;
  }
  .live {
    font-size: 0.85em;
  }
  progress {
    max-width: 9em;
  }
`;
