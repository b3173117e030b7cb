import { define } from '../../lib/define.js';
import { RattgKeyList } from './key-list.component.js';

export { RattgKeyList };
define('rattg-key-list', RattgKeyList);

declare global {
  interface HTMLElementTagNameMap {
    'rattg-key-list': RattgKeyList;
  }
}
