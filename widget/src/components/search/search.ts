import { define } from '../../lib/define.js';
import { RattgSearch } from './search.component.js';

export { RattgSearch };
define('rattg-search', RattgSearch);

declare global {
  interface HTMLElementTagNameMap {
    'rattg-search': RattgSearch;
  }
}
