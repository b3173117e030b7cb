import { define } from '../../lib/define.js';
import { RattgLogin } from './login.component.js';

export { RattgLogin };
define('rattg-login', RattgLogin);

declare global {
  interface HTMLElementTagNameMap {
    'rattg-login': RattgLogin;
  }
}
