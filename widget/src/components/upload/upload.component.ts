import { LitElement, html } from 'lit';
import { property, query, state } from 'lit/decorators.js';
import { repeat } from 'lit/directives/repeat.js';
import {
  ApiError,
  type ApiClient,
  type DocumentInfo,
  type PublicConfig,
  type SessionUser,
} from '../../lib/api.js';
import { emit } from '../../lib/emit.js';
import { formatBytes } from '../../lib/format.js';
import { sharedStyles } from '../../styles/shared.styles.js';
import { uploadStyles } from './upload.styles.js';

interface Item {
  key: number;
  name: string;
  size: number;
  loaded: number;
  state: 'uploading' | 'processing' | 'done' | 'duplicate' | 'error';
  message: string;
  abort?: () => void;
}

/** A short word before the API's own message, so the kind of failure reads at a glance. */
const FAILURE: Record<number, string> = {
  413: 'Too large',
  415: 'Unsupported type',
  400: 'Rejected',
  403: 'Not allowed',
  0: 'Failed',
};

/** Files uploaded at once; more wait their turn. */
const PARALLEL = 3;

/**
 * Upload: drag and drop or pick several files; each gets its own progress bar (bytes sent) and its
 * own outcome in words from the API (too large, unsupported type, duplicate). Files over the server's
 * published limit (`GET /config`) or of a type it does not index are refused before they are sent. Access and tags apply
 * to the files picked after they are set.
 *
 * @event rattg-upload-complete - A file was stored. `detail: { documents }` as the API returned them.
 *
 * @csspart dropzone - The drop area.
 * @csspart file-list - The list of files being uploaded.
 * @csspart file - One file's row.
 * @csspart progress - One file's progress bar.
 *
 * @cssproperty --rattg-color-drop - Background of the drop area while files are dragged over it.
 */
export class RattgUpload extends LitElement {
  static override styles = [sharedStyles, uploadStyles];

  @property({ attribute: false }) accessor client: ApiClient | null = null;
  @property({ attribute: false }) accessor user: SessionUser | null = null;

  @state() accessor items: Item[] = [];
  @state() accessor over = false;
  @state() accessor announcement = '';
  /** The server's limits; until they are known (or if they cannot be), the server decides. */
  @state() accessor limits: PublicConfig['upload'] | null = null;

  @query('#file') accessor fileInput!: HTMLInputElement;
  @query('#access') accessor accessSelect!: HTMLSelectElement;
  @query('#tags') accessor tagsInput!: HTMLInputElement;

  private nextKey = 1;
  private running = 0;
  private queue: { item: Item; file: File; access: string; tags: string }[] = [];

  protected override willUpdate(changed: Map<PropertyKey, unknown>): void {
    if (changed.has('client') && this.client) {
      const client = this.client;
      client.config().then(
        (c) => {
          if (client === this.client) this.limits = c.upload;
        },
        () => {},
      );
    }
  }

  /** Why a file cannot be uploaded, known without sending it; null when it may go. */
  private refusal(file: File): string | null {
    const limits = this.limits;
    if (!limits) return null;
    if (file.size > limits.maxBytes)
      return `${FAILURE[413]}: The file is larger than the limit of ${limits.maxMb} MB`;
    const dot = file.name.lastIndexOf('.');
    const ext = dot > 0 ? file.name.slice(dot + 1).toLowerCase() : '';
    if (!limits.extensions.includes(ext))
      return (
        `${FAILURE[415]}: ${ext ? `“.${ext}” files are` : 'a file without an extension is'} not indexed. ` +
        `Supported types: ${limits.extensions.join(', ')}`
      );
    return null;
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.queue = [];
    for (const item of this.items) item.abort?.();
  }

  private update1(key: number, patch: Partial<Item>): void {
    this.items = this.items.map((i) => (i.key === key ? { ...i, ...patch } : i));
  }

  /** Start uploading files (from the picker, a drop, or a host page calling it). */
  addFiles(files: Iterable<File>): void {
    const access = this.accessSelect?.value ?? 'private';
    const tags = this.tagsInput?.value ?? '';
    for (const file of files) {
      const refused = this.refusal(file);
      const item: Item = {
        key: this.nextKey++,
        name: file.name,
        size: file.size,
        loaded: 0,
        state: refused ? 'error' : 'uploading',
        message: refused ?? 'Waiting…',
      };
      this.items = [...this.items, item];
      if (refused) this.announcement = `${file.name}: ${refused}`;
      else this.queue.push({ item, file, access, tags });
    }
    this.pump();
  }

  private pump(): void {
    while (this.running < PARALLEL && this.queue.length) {
      const next = this.queue.shift()!;
      this.running++;
      void this.send(next).finally(() => {
        this.running--;
        this.pump();
      });
    }
  }

  private async send({ item, file, access, tags }: { item: Item; file: File; access: string; tags: string }) {
    if (!this.client) return;
    const handle = this.client.upload(file, { access, tags }, (loaded, total) => {
      const all = total || file.size;
      this.update1(item.key, {
        loaded,
        message:
          loaded >= all
            ? 'Processing on the server…'
            : `Uploading ${Math.round((loaded / Math.max(all, 1)) * 100)}%`,
        state: loaded >= all ? 'processing' : 'uploading',
      });
    });
    this.update1(item.key, { abort: handle.abort, message: 'Uploading 0%' });
    try {
      const docs: DocumentInfo[] = await handle.done;
      const duplicate = docs.every((d) => d.duplicate);
      const message = duplicate
        ? 'Duplicate: you already uploaded this file' +
          (docs[0] && docs[0].filename !== file.name ? ` (as “${docs[0].filename}”)` : '')
        : 'Uploaded; indexing starts now';
      this.update1(item.key, { state: duplicate ? 'duplicate' : 'done', loaded: file.size, message });
      this.announcement = `${file.name}: ${message}`;
      emit(this, 'rattg-upload-complete', { documents: docs });
    } catch (err) {
      const message =
        err instanceof ApiError ? `${FAILURE[err.status] ?? 'Failed'}: ${err.message}` : 'Upload failed';
      this.update1(item.key, { state: 'error', message });
      this.announcement = `${file.name}: ${message}`;
    }
  }

  private onPick(): void {
    const files = [...(this.fileInput.files ?? [])];
    this.fileInput.value = '';
    if (files.length) this.addFiles(files);
  }

  private onDrop(e: DragEvent): void {
    e.preventDefault();
    this.over = false;
    const files = [...(e.dataTransfer?.files ?? [])];
    if (files.length) this.addFiles(files);
  }

  private onDragOver(e: DragEvent): void {
    e.preventDefault();
    if (e.dataTransfer) e.dataTransfer.dropEffect = 'copy';
    this.over = true;
  }

  private clearFinished(): void {
    this.items = this.items.filter((i) => i.state === 'uploading' || i.state === 'processing');
  }

  override render() {
    const groups = this.user?.groups ?? [];
    return html`
      <div class="options row">
        <label for="access"
          >Who may read
          <select id="access">
            <option value="private">Only me</option>
            <option value="org">Everyone</option>
            ${groups.map((g) => html`<option value=${`group:${g}`}>Group ${g}</option>`)}
          </select>
        </label>
        <label for="tags"
          >Tags (comma-separated)
          <input id="tags" placeholder="e.g. hr, policy" autocomplete="off" />
        </label>
      </div>
      <div
        class="zone ${this.over ? 'over' : ''}"
        part="dropzone"
        @dragover=${this.onDragOver}
        @dragleave=${() => (this.over = false)}
        @drop=${this.onDrop}
      >
        <p>Drop files here, or</p>
        <input
          id="file"
          class="sr-only"
          type="file"
          multiple
          @change=${this.onPick}
          aria-label="Choose files to upload"
        />
        <button class="primary" type="button" @click=${() => this.fileInput.click()}>Choose files…</button>
        <p class="muted">
          PDF, Word, PowerPoint, Excel, HTML, Markdown, text, CSV,
          JSON${this.limits ? ` · up to ${this.limits.maxMb} MB each` : ''}
        </p>
      </div>
      ${
        this.items.length
          ? html`<ul part="file-list" aria-label="Uploads">
                ${repeat(
                  this.items,
                  (i) => i.key,
                  (i) =>
                    html`<li part="file" data-state=${i.state}>
                      <span class="name">${i.name}</span>
                      <span class="muted">${formatBytes(i.size)}</span>
                      <progress
                        part="progress"
                        max=${Math.max(i.size, 1)}
                        .value=${i.loaded}
                        aria-label=${`Upload of ${i.name}`}
                      ></progress>
                      <span class="state-${i.state}">${i.message}</span>
                    </li>`,
                )}
              </ul>
              <button type="button" @click=${this.clearFinished}>Clear finished</button>`
          : ''
      }
      <div class="sr-only" role="status" aria-live="polite">${this.announcement}</div>
    `;
  }
}
