/**
 * rattgllm widget: one ES module that defines every rattg-* element. Embed with
 *   <script type="module" src="/widget/rattg-widget.js"></script>
 *   <rattg-widget api-base="/api"></rattg-widget>
 */
export { RattgWidget } from './components/widget/widget.js';
export { RattgLogin } from './components/login/login.js';
export { RattgUpload } from './components/upload/upload.js';
export { RattgDocuments } from './components/documents/documents.js';
export { RattgSearch } from './components/search/search.js';
export { RattgAccount } from './components/account/account.js';
export { RattgAdmin } from './components/admin/admin.js';
export { RattgSystemStatus } from './components/system-status/system-status.js';
export { RattgKeyList } from './components/key-list/key-list.js';
export { RattgQueue } from './components/queue/queue.js';
export { ApiClient, ApiError } from './lib/api.js';
export type { DocumentInfo, DocumentEvent, SearchResult, SessionUser, Me, Readiness } from './lib/api.js';
