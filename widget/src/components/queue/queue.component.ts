import { LitElement, html, nothing } from 'lit';
import { property, state } from 'lit/decorators.js';
import { ApiError, type ApiClient, type QueueInfo, type QueueItem, type SessionUser } from '../../lib/api.js';
import { emit } from '../../lib/emit.js';
import { formatBytes, formatDuration, plural } from '../../lib/format.js';
import { sharedStyles } from '../../styles/shared.styles.js';
import { queueStyles } from './queue.styles.js';

/** How often the view refreshes while something of yours is queued (the ETA moves). */
const REFRESH_MS = 5000;

/**
 * The ingestion queue as the signed-in user may see it: each of their queued documents with its
 * place in the whole queue, progress and an ETA from the measured throughput; Cancel stops a
 * pending, retrying or running document (owner or admin). Shows nothing while nothing is queued.
 * rattg-documents calls `refresh()` when the live status stream reports a change.
 *
 * @event rattg-document-change - A document's indexing was cancelled. `detail: { document, op: 'cancel' }`.
 *
 * @csspart queue - The queue section.
 * @csspart item - One queued document.
 */
export class RattgQueue extends LitElement {
  static override styles = [sharedStyles, queueStyles];

  @property({ attribute: false }) accessor client: ApiClient | null = null;
  @property({ attribute: false }) accessor user: SessionUser | null = null;

  @state() accessor info: QueueInfo | null = null;
  @state() accessor error = '';
  @state() accessor announcement = '';

  private timer: ReturnType<typeof setTimeout> | undefined;
  private soon: ReturnType<typeof setTimeout> | undefined;

  override updated(changed: Map<PropertyKey, unknown>): void {
    if (changed.has('client')) void this.refresh();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    clearTimeout(this.timer);
    clearTimeout(this.soon);
  }

  /** Fetch again shortly (a burst of status events makes one request). */
  refreshSoon(): void {
    clearTimeout(this.soon);
    this.soon = setTimeout(() => void this.refresh(), 300);
  }

  async refresh(): Promise<void> {
    clearTimeout(this.timer);
    if (!this.client || !this.isConnected) return;
    try {
      this.info = await this.client.request<QueueInfo>('GET', '/documents/queue?limit=50');
      this.error = '';
    } catch (err) {
      this.error = err instanceof ApiError ? err.message : 'Could not load the queue';
    }
    if (this.info?.items.length) this.timer = setTimeout(() => void this.refresh(), REFRESH_MS);
  }

  private mayCancel(item: QueueItem): boolean {
    const u = this.user;
    return Boolean(u && (item.document.ownerId === u.id || u.roles.includes('admin')));
  }

  private async cancel(item: QueueItem): Promise<void> {
    const doc = item.document;
    try {
      const updated = await this.client!.request('POST', `/documents/${doc.id}/cancel`);
      this.announcement = `${doc.filename}: indexing cancelled`;
      this.error = '';
      emit(this, 'rattg-document-change', { document: updated, op: 'cancel' });
    } catch (err) {
      this.error = `${doc.filename}: ${err instanceof ApiError ? err.message : 'not cancelled'}`;
    }
    await this.refresh();
  }

  private where(item: QueueItem): string {
    const d = item.document;
    if (d.status === 'processing') return `Indexing now · ${Math.round(d.progress * 100)}%`;
    if (d.status === 'waiting')
      return d.nextAttemptAt ? `Retrying at ${new Date(d.nextAttemptAt).toLocaleTimeString()}` : 'Retrying';
    return `Number ${item.position} in the queue`;
  }

  private eta(item: QueueItem): string {
    if (item.document.status === 'waiting') return '';
    if (item.etaSeconds === null) return 'time left unknown until a few documents are indexed';
    return `about ${formatDuration(item.etaSeconds)} left`;
  }

  override render() {
    const info = this.info;
    if (!info?.items.length)
      return html`<div class="error" role="alert">${this.error}</div>
        <div class="sr-only" role="status" aria-live="polite">${this.announcement}</div>`;
    return html`<section part="queue" aria-labelledby="queue-title">
      <h2 id="queue-title">Ingestion queue</h2>
      <p class="muted">
        ${plural(info.total, 'document', 'documents')} in the queue, ${info.running} being
        indexed${
          info.throughput
            ? ` · measured ${formatBytes(Math.round(info.throughput.bytesPerSecond))}/s per document over the last ${plural(info.throughput.documents, 'run', 'runs')}`
            : ''
        }
      </p>
      <ol>
        ${info.items.map(
          (item) =>
            html`<li part="item" data-id=${item.document.id} data-status=${item.document.status}>
              <span class="name">${item.document.filename}</span>
              <span class="muted">${formatBytes(item.document.size)}</span>
              <span class="where">${this.where(item)}</span>
              ${
                item.document.status === 'processing'
                  ? html`<progress
                      max="1"
                      .value=${item.document.progress}
                      aria-label=${`Indexing ${item.document.filename}`}
                    ></progress>`
                  : nothing
              }
              <span class="muted eta">${this.eta(item)}</span>
              ${
                this.mayCancel(item)
                  ? html`<button
                      type="button"
                      @click=${() => this.cancel(item)}
                      aria-label=${`Cancel indexing ${item.document.filename}`}
                    >
                      Cancel
                    </button>`
                  : nothing
              }
            </li>`,
        )}
      </ol>
      <div class="error" role="alert">${this.error}</div>
      <div class="sr-only" role="status" aria-live="polite">${this.announcement}</div>
    </section>`;
  }
}
