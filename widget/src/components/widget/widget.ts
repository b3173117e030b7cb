import { define } from '../../lib/define.js';
import { RattgWidget } from './widget.component.js';

export { RattgWidget };
define('rattg-widget', RattgWidget);

declare global {
  interface HTMLElementTagNameMap {
    'rattg-widget': RattgWidget;
  }
}
