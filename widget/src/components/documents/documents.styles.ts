import { css } from 'lit';

export const documentsStyles = css`
  .toolbar {
    margin-bottom: 0.8em;
  }
  .name {
    font-weight: 600;
    overflow-wrap: anywhere;
  }
  .badge[data-status='indexed'] {
    color: var(--_success);
  }
  .badge[data-status='failed'] {
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
  .live {
    font-size: 0.85em;
  }
  progress {
    max-width: 9em;
  }
`;
