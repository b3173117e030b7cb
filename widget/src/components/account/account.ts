import { define } from '../../lib/define.js';
import { RattgAccount } from './account.component.js';

export { RattgAccount };
define('rattg-account', RattgAccount);

declare global {
  interface HTMLElementTagNameMap {
    'rattg-account': RattgAccount;
  }
}
