import { define } from '../../lib/define.js';
import { RattgAdmin } from './admin.component.js';

export { RattgAdmin };
define('rattg-admin', RattgAdmin);

declare global {
  interface HTMLElementTagNameMap {
    'rattg-admin': RattgAdmin;
  }
}
