import { define } from '../../lib/define.js';
import { RattgQueue } from './queue.component.js';

export { RattgQueue };
define('rattg-queue', RattgQueue);

declare global {
  interface HTMLElementTagNameMap {
    'rattg-queue': RattgQueue;
  }
}
