import { css } from 'lit';

export const widgetStyles = css`
  :host {
    border: 1px solid var(--_border);
    border-radius: var(--_radius);
    background: var(--_bg);
    overflow: hidden;
  }
  header {
    display: flex;
    flex-wrap: wrap;
    gap: 0.6em;
    align-items: center;
    justify-content: space-between;
    padding: 0.6em 1em;
    background: var(--rattg-header-bg, var(--_primary));
    color: var(--rattg-header-color, var(--_on-primary));
  }
  .banner {
    font-weight: 700;
    font-size: 1.05em;
    margin: 0;
  }
  .who {
    display: flex;
    flex-wrap: wrap;
    gap: 0.3em 0.8em;
    align-items: center;
  }
  /* On a phone the three wrap as whole pieces ("Sign out" never breaks inside). */
  .who > * {
    white-space: nowrap;
  }
  .who a {
    color: inherit;
  }
  header button {
    background: transparent;
    color: inherit;
    border-color: currentColor;
    padding: 0.2em 0.7em;
  }
  header button:focus-visible,
  header a:focus-visible {
    outline-color: currentColor;
  }
  [role='tablist'] {
    display: flex;
    flex-wrap: wrap;
    gap: 0.2em;
    border-bottom: 1px solid var(--_border);
    padding: 0 0.6em;
    background: var(--_surface);
  }
  [role='tab'] {
    border: none;
    border-bottom: 3px solid transparent;
    border-radius: 0;
    background: none;
    padding: 0.6em 0.9em;
  }
  [role='tab'][aria-selected='true'] {
    border-bottom-color: var(--_primary);
    font-weight: 600;
  }
  [role='tabpanel'] {
    padding: 1em;
  }
  @container (max-width: 30em) {
    header {
      padding: 0.5em 0.7em;
    }
    [role='tablist'] {
      padding: 0 0.2em;
    }
    [role='tab'] {
      padding: 0.55em 0.6em;
    }
    [role='tabpanel'] {
      padding: 0.7em 0.6em;
    }
  }
  .loading {
    padding: 1.5em;
  }
`;
