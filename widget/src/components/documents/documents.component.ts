import { LitElement, html, type PropertyValues } from 'lit';
import { property, state } from 'lit/decorators.js';
import {
  ApiError,
  type ApiClient,
  type DocumentEvent,
  type DocumentInfo,
  type SessionUser,
} from '../../lib/api.js';
import { emit } from '../../lib/emit.js';
import { accessLabel, openOriginal } from '../../lib/format.js';
import { sharedStyles } from '../../styles/shared.styles.js';
import { documentsStyles } from './documents.styles.js';
import {
  SORT_LABELS,
  STATUS_WORDS,
  pager,
  sortHeader,
  sortSelect,
  type SortKey,
  type SortOrder,
} from './documents.parts.js';
import { documentsTable } from './documents.row.js';
import { DocumentStream } from './documents.stream.js';
import '../queue/queue.js';
import { focusConfirm } from '../../lib/confirm.js';

const LIVE_WORDS = { live: 'Live', connecting: 'Connecting…', offline: 'Offline, retrying…' } as const;

/**
 * The documents the signed-in user may read, with a status badge and an ingestion progress bar
 * that move live (Server-Sent Events; reconnects with a fresh token after a drop). Actions:
 * open, download, re-index, change access and delete (after a confirmation). The server pages and
 * sorts the list (`page-size` per page; sort by name, date, size, status, owner or source).
 *
 * @event rattg-document-change - A document changed here or on the server. `detail: { document, op }`.
 *
 * @csspart table - The table of documents.
 * @csspart row - One document's row.
 * @csspart badge - A status badge.
 * @csspart progress - An ingestion progress bar.
 * @csspart next-attempt - When a `waiting` document is tried again.
 * @csspart live - The connection indicator.
 *
 * @cssproperty --rattg-color-success - Indexed badge colour.
 * @cssproperty --rattg-color-warning - Pending/processing badge colour.
 */
export class RattgDocuments extends LitElement {
  static override styles = [sharedStyles, documentsStyles];

  @property({ attribute: false }) accessor client: ApiClient | null = null;
  @property({ attribute: false }) accessor user: SessionUser | null = null;
  /** Documents per page (the API allows up to 200). */
  @property({ type: Number, attribute: 'page-size' }) accessor pageSize = 50;

  @state() accessor docs: DocumentInfo[] = [];
  @state() accessor total = 0;
  @state() accessor loading = false;
  @state() accessor error = '';
  @state() accessor confirming: string | null = null;
  @state() accessor announcement = '';
  @state() accessor filter = '';
  /** The filter of the list on screen (the input may already hold the next one). */
  @state() accessor shownFilter = '';
  @state() accessor page = 0;
  @state() accessor sort: SortKey = 'createdAt';
  @state() accessor order: SortOrder = 'desc';

  private readonly stream = new DocumentStream(this, {
    event: (ev) => this.onEvent(ev),
    reconnected: () => void this.reload(),
  });
  private reloadTimer: ReturnType<typeof setTimeout> | undefined;
  private connected = false;

  override connectedCallback(): void {
    super.connectedCallback();
    this.connected = true;
    // Back in the page after a move: reopen the stream (the first start happens in willUpdate).
    if (this.hasUpdated && this.client) this.start();
  }

  private start(): void {
    void this.reload();
    if (this.client) this.stream.open(this.client);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.connected = false;
    clearTimeout(this.reloadTimer);
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('client') && this.connected) {
      this.stream.close();
      if (this.client) this.start();
      else this.docs = [];
    }
  }

  private onEvent(ev: DocumentEvent): void {
    this.shadowRoot?.querySelector('rattg-queue')?.refreshSoon();
    const existing = this.docs.find((d) => d.id === ev.id);
    if (ev.op === 'delete' || ev.status === 'deleted') {
      if (existing) {
        this.docs = this.docs.filter((d) => d.id !== ev.id);
        this.total = Math.max(0, this.total - 1);
        this.announcement = `${existing.filename} was deleted`;
      }
    } else if (existing) {
      const updated: DocumentInfo = {
        ...existing,
        filename: ev.filename,
        access: ev.access,
        status: ev.status,
        progress: ev.progress,
        error: ev.error,
        nextAttemptAt: ev.nextAttemptAt ?? null,
        chunkCount: ev.chunkCount,
        indexedAt: ev.indexedAt,
        updatedAt: ev.updatedAt,
      };
      this.docs = this.docs.map((d) => (d.id === ev.id ? updated : d));
      if (existing.status !== ev.status)
        this.announcement = `${ev.filename}: ${STATUS_WORDS[ev.status] ?? ev.status}`;
      emit(this, 'rattg-document-change', { document: updated, op: ev.op });
    } else {
      // A document we do not list yet (new upload, or access granted): fetch the list once.
      clearTimeout(this.reloadTimer);
      this.reloadTimer = setTimeout(() => void this.reload(), 200);
    }
  }

  /** Fetch the list again (the host page may call this). */
  async reload(): Promise<void> {
    if (!this.client) return;
    this.loading = true;
    try {
      const filter = this.filter.trim();
      const q = filter ? `&q=${encodeURIComponent(filter)}` : '';
      const size = this.size;
      const res = await this.client.request<{ documents: DocumentInfo[]; total: number }>(
        'GET',
        `/documents?limit=${size}&offset=${this.page * size}&sort=${this.sort}&order=${this.order}${q}`,
      );
      // Past the end (the last documents of the last page were deleted): show the last page.
      if (res.documents.length === 0 && res.total > 0 && this.page > 0) {
        this.page = Math.max(0, Math.ceil(res.total / size) - 1);
        return this.reload();
      }
      this.docs = res.documents;
      this.total = res.total;
      this.shownFilter = filter;
      this.error = '';
    } catch (err) {
      this.error = err instanceof ApiError ? err.message : 'Could not load the documents';
    } finally {
      this.loading = false;
    }
  }

  private get size(): number {
    return Math.min(Math.max(1, this.pageSize), 200);
  }

  private goTo(page: number): void {
    this.page = page;
    void this.reload();
  }

  /** Sort by a column; the same column again reverses the order. */
  private sortBy(key: SortKey, order?: SortOrder): void {
    this.order =
      order ??
      (key === this.sort ? (this.order === 'asc' ? 'desc' : 'asc') : key === 'createdAt' ? 'desc' : 'asc');
    this.sort = key;
    this.goTo(0);
  }

  private header(key: SortKey, label = SORT_LABELS[key]) {
    return sortHeader(key, label, this, (k) => this.sortBy(k));
  }

  /** @internal (rattg-documents rows) */
  canChange(doc: DocumentInfo): boolean {
    return Boolean(this.user && (doc.ownerId === this.user.id || this.user.roles.includes('admin')));
  }

  private async act(doc: DocumentInfo, what: () => Promise<unknown>, done: string): Promise<void> {
    try {
      await what();
      this.announcement = `${doc.filename}: ${done}`;
      this.error = '';
    } catch (err) {
      this.error = `${doc.filename}: ${err instanceof ApiError ? err.message : 'failed'}`;
    }
  }

  /** @internal (rattg-documents rows) */
  open(doc: DocumentInfo, download: boolean): void {
    if (this.client)
      void this.act(
        doc,
        () => openOriginal(this.client!, doc, { download }),
        download ? 'downloaded' : 'opened',
      );
  }

  /** @internal (rattg-documents rows) */
  reindex(doc: DocumentInfo): void {
    void this.act(
      doc,
      async () => {
        await this.client!.request('POST', '/ingest/reindex', { documentId: doc.id, force: true });
        this.docs = this.docs.map((d) =>
          d.id === doc.id ? { ...d, status: 'pending', progress: 0, error: null } : d,
        );
      },
      're-index queued',
    );
  }

  /** @internal (rattg-documents rows) */
  changeAccess(doc: DocumentInfo, access: string): void {
    if (access === doc.access) return;
    void this.act(
      doc,
      async () => {
        const updated = await this.client!.request<DocumentInfo>('PATCH', `/documents/${doc.id}`, { access });
        this.docs = this.docs.map((d) => (d.id === doc.id ? updated : d));
        emit(this, 'rattg-document-change', { document: updated, op: 'update' });
      },
      `access is now ${accessLabel(access)}`,
    ).then(() => this.requestUpdate());
  }

  /** @internal (rattg-documents rows) */
  async deleteDoc(doc: DocumentInfo): Promise<void> {
    this.confirming = null;
    await this.act(
      doc,
      async () => {
        await this.client!.request('DELETE', `/documents/${doc.id}`);
        this.docs = this.docs.filter((d) => d.id !== doc.id);
        this.total = Math.max(0, this.total - 1);
        emit(this, 'rattg-document-change', { document: doc, op: 'delete' });
      },
      'deleted',
    );
    this.shadowRoot?.querySelector<HTMLElement>('#filter')?.focus();
  }

  /** @internal (rattg-documents rows) */
  async askDelete(doc: DocumentInfo): Promise<void> {
    this.confirming = doc.id;
    await focusConfirm(this, doc.id);
  }

  /** @internal (rattg-documents rows) */
  accessOptions(doc: DocumentInfo): string[] {
    const opts = ['private', 'org', ...(this.user?.groups ?? []).map((g) => `group:${g}`)];
    if (!opts.includes(doc.access)) opts.push(doc.access);
    return opts;
  }

  override render() {
    return html`
      <rattg-queue exportparts="queue, item" .client=${this.client} .user=${this.user}></rattg-queue>
      <form class="toolbar row" role="search" @submit=${(e: Event) => (e.preventDefault(), this.goTo(0))}>
        <label for="filter"
          >Filter by file name
          <input
            id="filter"
            .value=${this.filter}
            @input=${(e: Event) => (this.filter = (e.target as HTMLInputElement).value)}
        /></label>
        <button type="submit">Filter</button>
        ${sortSelect(this, (key, order) => this.sortBy(key, order))}
        <button type="button" @click=${() => this.reload()}>Refresh</button>
        <span class="live badge" part="live" data-live=${this.stream.live}>
          ${LIVE_WORDS[this.stream.live]}
        </span>
      </form>
      <div class="error" role="alert">${this.error}</div>
      ${
        this.docs.length === 0 && !this.loading
          ? html`<p class="muted empty" part="empty">
              ${
                this.shownFilter
                  ? `No document’s name contains “${this.shownFilter}”. Clear the filter to see all documents.`
                  : 'No documents yet. Upload some in the Upload tab.'
              }
            </p>`
          : documentsTable(this, this.docs, this.total, (key, label) => this.header(key, label))
      }
      ${pager({ page: this.page, size: this.size, total: this.total, shown: this.docs.length }, (p) =>
        this.goTo(p),
      )}
      <div class="sr-only" role="status" aria-live="polite">${this.announcement}</div>
    `;
  }
}
