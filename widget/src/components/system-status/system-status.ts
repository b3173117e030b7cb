import { define } from '../../lib/define.js';
import { RattgSystemStatus } from './system-status.component.js';

export { RattgSystemStatus };
define('rattg-system-status', RattgSystemStatus);

declare global {
  interface HTMLElementTagNameMap {
    'rattg-system-status': RattgSystemStatus;
  }
}
