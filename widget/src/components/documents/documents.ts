import { define } from '../../lib/define.js';
import { RattgDocuments } from './documents.component.js';

export { RattgDocuments };
define('rattg-documents', RattgDocuments);

declare global {
  interface HTMLElementTagNameMap {
    'rattg-documents': RattgDocuments;
  }
}
