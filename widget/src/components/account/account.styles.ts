import { css } from 'lit';

export const accountStyles = css`
  form.stacked {
    display: grid;
    gap: 0.6em;
    max-width: 24em;
  }
  fieldset {
    margin: 0;
    display: flex;
    flex-wrap: wrap;
    gap: 0.3em 1em;
  }
  .field-error:empty {
    display: none;
  }
`;
