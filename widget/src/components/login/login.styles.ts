import { css } from 'lit';

export const loginStyles = css`
  form {
    display: grid;
    gap: 0.8em;
    max-width: 22em;
    margin: 1.5em auto;
    padding: 1.2em;
    border: 1px solid var(--_border);
    border-radius: var(--_radius);
    background: var(--_surface);
  }
  h2 {
    margin: 0;
    font-size: 1.15em;
  }
  .field-error {
    margin-top: -0.6em;
    font-size: 0.9em;
  }
  .field-error:empty {
    display: none;
  }
  .notice {
    color: var(--_warning);
  }
`;
