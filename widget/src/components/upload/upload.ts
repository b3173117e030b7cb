import { define } from '../../lib/define.js';
import { RattgUpload } from './upload.component.js';

export { RattgUpload };
define('rattg-upload', RattgUpload);

declare global {
  interface HTMLElementTagNameMap {
    'rattg-upload': RattgUpload;
  }
}
