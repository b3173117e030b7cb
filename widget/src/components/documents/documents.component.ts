import { LitElement, html, nothing, type PropertyValues } from 'lit';
import { property, state } from 'lit/decorators.js';
import { repeat } from 'lit/directives/repeat.js';
import {
  ApiError,
  type ApiClient,
  type DocumentEvent,
  type DocumentInfo,
  type SessionUser,
} from '../../lib/api.js';
import { emit } from '../../lib/emit.js';
import { accessLabel, formatBytes, openOriginal } from '../../lib/format.js';
import { sharedStyles } from '../../styles/shared.styles.js';
import { documentsStyles } from './documents.styles.js';

const STATUS_WORDS: Record<string, string> = {
  pending: 'Waiting',
  processing: 'Indexing',
  // `waiting`: a service the document needs failed; it is tried again at nextAttemptAt by itself.
  waiting: 'Retrying',
  indexed: 'Indexed',
  failed: 'Failed',
};

/**
 * The documents the signed-in user may read, with a status badge and an ingestion progress bar
 * that move live (Server-Sent Events; reconnects with a fresh token after a drop). Actions:
 * open, download, re-index, change access and delete (after a confirmation).
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

  @state() accessor docs: DocumentInfo[] = [];
  @state() accessor total = 0;
  @state() accessor loading = false;
  @state() accessor error = '';
  @state() accessor live: 'connecting' | 'live' | 'offline' = 'connecting';
  @state() accessor confirming: string | null = null;
  @state() accessor announcement = '';
  @state() accessor filter = '';

  private source: EventSource | null = null;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private retryDelay = 1000;
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
    void this.connect();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.connected = false;
    this.closeStream();
    clearTimeout(this.reloadTimer);
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('client') && this.connected) {
      this.closeStream();
      if (this.client) this.start();
      else this.docs = [];
    }
  }

  private closeStream(): void {
    clearTimeout(this.retryTimer);
    this.source?.close();
    this.source = null;
  }

  /** Open the live stream; on a drop, reconnect with backoff and a fresh 60-second token. */
  private async connect(): Promise<void> {
    const client = this.client;
    if (!client || !this.connected) return;
    this.live = 'connecting';
    let url: string;
    try {
      url = await client.eventsUrl();
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) return; // signed out: the container takes over
      this.scheduleReconnect();
      return;
    }
    if (client !== this.client || !this.connected) return;
    const source = new EventSource(url);
    this.source = source;
    source.addEventListener('open', () => {
      this.live = 'live';
      // Anything that changed while we were away is fetched once.
      if (this.retryDelay > 1000) void this.reload();
      this.retryDelay = 1000;
    });
    source.addEventListener('document', (e) => this.onEvent(JSON.parse((e as MessageEvent<string>).data)));
    source.addEventListener('error', () => {
      // EventSource would retry with the same (soon expired) token; we reconnect ourselves.
      source.close();
      if (this.source === source) {
        this.source = null;
        this.live = 'offline';
        this.scheduleReconnect();
      }
    });
  }

  private scheduleReconnect(): void {
    clearTimeout(this.retryTimer);
    this.live = 'offline';
    this.retryTimer = setTimeout(() => void this.connect(), this.retryDelay);
    this.retryDelay = Math.min(this.retryDelay * 2, 30_000);
  }

  private onEvent(ev: DocumentEvent): void {
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
      const q = this.filter.trim() ? `&q=${encodeURIComponent(this.filter.trim())}` : '';
      const res = await this.client.request<{ documents: DocumentInfo[]; total: number }>(
        'GET',
        `/documents?limit=200${q}`,
      );
      this.docs = res.documents;
      this.total = res.total;
      this.error = '';
    } catch (err) {
      this.error = err instanceof ApiError ? err.message : 'Could not load the documents';
    } finally {
      this.loading = false;
    }
  }

  private canChange(doc: DocumentInfo): boolean {
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

  private open(doc: DocumentInfo, download: boolean): void {
    if (this.client)
      void this.act(
        doc,
        () => openOriginal(this.client!, doc, { download }),
        download ? 'downloaded' : 'opened',
      );
  }

  private reindex(doc: DocumentInfo): void {
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

  private changeAccess(doc: DocumentInfo, access: string): void {
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

  private async deleteDoc(doc: DocumentInfo): Promise<void> {
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

  private async askDelete(doc: DocumentInfo): Promise<void> {
    this.confirming = doc.id;
    await this.updateComplete;
    this.shadowRoot?.querySelector<HTMLElement>(`[data-confirm="${doc.id}"] button`)?.focus();
  }

  private accessOptions(doc: DocumentInfo): string[] {
    const opts = ['private', 'org', ...(this.user?.groups ?? []).map((g) => `group:${g}`)];
    if (!opts.includes(doc.access)) opts.push(doc.access);
    return opts;
  }

  private renderRow(doc: DocumentInfo) {
    const changeable = this.canChange(doc);
    const working = doc.status === 'pending' || doc.status === 'processing';
    return html`<tr part="row" data-id=${doc.id} data-status=${doc.status}>
      <td>
        <div class="name">${doc.filename}</div>
        <div class="muted">${formatBytes(doc.size)}${doc.tags.length ? ` · ${doc.tags.join(', ')}` : ''}</div>
      </td>
      <td>
        <span class="badge" part="badge" data-status=${doc.status}
          >${STATUS_WORDS[doc.status] ?? doc.status}</span
        >
        ${
          working
            ? html`<progress
                part="progress"
                max="1"
                .value=${doc.progress}
                aria-label=${`Indexing ${doc.filename}`}
              ></progress>`
            : nothing
        }
        ${doc.status === 'indexed' ? html`<div class="muted">${doc.chunkCount} passages</div>` : nothing}
        ${
          doc.status === 'waiting' && doc.nextAttemptAt
            ? html`<div class="muted" part="next-attempt">
                Next attempt at ${new Date(doc.nextAttemptAt).toLocaleTimeString()}
              </div>`
            : nothing
        }
        ${doc.error ? html`<div class=${doc.status === 'waiting' ? 'muted' : 'error'}>${doc.error}</div>` : nothing}
      </td>
      <td>
        ${
          changeable
            ? html`<select
                aria-label=${`Who may read ${doc.filename}`}
                @change=${(e: Event) => this.changeAccess(doc, (e.target as HTMLSelectElement).value)}
              >
                ${this.accessOptions(doc).map(
                  (a) => html`<option value=${a} ?selected=${a === doc.access}>${accessLabel(a)}</option>`,
                )}
              </select>`
            : accessLabel(doc.access)
        }
      </td>
      <td>
        ${
          this.confirming === doc.id
            ? html`<div
                class="confirm"
                role="group"
                aria-label=${`Confirm deletion of ${doc.filename}`}
                data-confirm=${doc.id}
              >
                <span>Delete for good?</span>
                <button class="danger" type="button" @click=${() => this.deleteDoc(doc)}>Yes, delete</button>
                <button type="button" @click=${() => (this.confirming = null)}>Cancel</button>
              </div>`
            : html`<div class="actions">
                <button
                  type="button"
                  @click=${() => this.open(doc, false)}
                  aria-label=${`Open ${doc.filename}`}
                >
                  Open
                </button>
                <button
                  type="button"
                  @click=${() => this.open(doc, true)}
                  aria-label=${`Download ${doc.filename}`}
                >
                  Download
                </button>
                ${
                  changeable
                    ? html`<button
                          type="button"
                          @click=${() => this.reindex(doc)}
                          aria-label=${`Re-index ${doc.filename}`}
                        >
                          Re-index
                        </button>
                        <button
                          class="danger"
                          type="button"
                          @click=${() => this.askDelete(doc)}
                          aria-label=${`Delete ${doc.filename}`}
                        >
                          Delete
                        </button>`
                    : nothing
                }
              </div>`
        }
      </td>
    </tr>`;
  }

  override render() {
    return html`
      <form
        class="toolbar row"
        role="search"
        @submit=${(e: Event) => (e.preventDefault(), void this.reload())}
      >
        <label for="filter"
          >Filter by file name
          <input
            id="filter"
            .value=${this.filter}
            @input=${(e: Event) => (this.filter = (e.target as HTMLInputElement).value)}
        /></label>
        <button type="submit">Filter</button>
        <button type="button" @click=${() => this.reload()}>Refresh</button>
        <span class="live badge" part="live" data-live=${this.live}>
          ${this.live === 'live' ? 'Live' : this.live === 'connecting' ? 'Connecting…' : 'Offline, retrying…'}
        </span>
      </form>
      <div class="error" role="alert">${this.error}</div>
      ${
        this.docs.length === 0 && !this.loading
          ? html`<p class="muted">No documents yet. Upload some in the Upload tab.</p>`
          : html`<table part="table">
              <caption class="sr-only">
                Documents (${this.total})
              </caption>
              <thead>
                <tr>
                  <th scope="col">File</th>
                  <th scope="col">Status</th>
                  <th scope="col">Who may read</th>
                  <th scope="col">Actions</th>
                </tr>
              </thead>
              <tbody>
                ${repeat(
                  this.docs,
                  (d) => d.id,
                  (d) => this.renderRow(d),
                )}
              </tbody>
            </table>`
      }
      <div class="sr-only" role="status" aria-live="polite">${this.announcement}</div>
    `;
  }
}
