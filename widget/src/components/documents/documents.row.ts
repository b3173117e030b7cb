import { html, nothing, type TemplateResult } from 'lit';
import { repeat } from 'lit/directives/repeat.js';
import type { DocumentInfo } from '../../lib/api.js';
import { accessLabel, formatBytes, plural } from '../../lib/format.js';
import { confirmGroup } from '../../lib/confirm.js';
import { STATUS_WORDS, type SortKey } from './documents.parts.js';
import type { RattgDocuments } from './documents.component.js';

/** One document's row (a card on a phone): name, owner, date, source, status, access, actions. */
export function documentRow(host: RattgDocuments, doc: DocumentInfo) {
  const changeable = host.canChange(doc);
  const working = doc.status === 'pending' || doc.status === 'processing' || doc.status === 'waiting';
  // A refused drop-folder file: nothing is stored, so nothing to open, download or re-index.
  const stored = doc.stored !== false;
  return html`<tr part="row" data-id=${doc.id} data-status=${doc.status}>
    <td data-label="File">
      <div class="name">${doc.filename}</div>
      <div class="muted">${formatBytes(doc.size)}${doc.tags.length ? ` · ${doc.tags.join(', ')}` : ''}</div>
    </td>
    <td data-label="Owner">${doc.ownerName ?? html`<span class="muted">nobody</span>`}</td>
    <td data-label="Added">
      <time datetime=${doc.createdAt}>${new Date(doc.createdAt).toLocaleString()}</time>
    </td>
    <td data-label="Source">
      ${
        doc.source === 'drop'
          ? html`drop
            folder${doc.sourcePath ? html`<div class="muted path">${doc.sourcePath}</div>` : nothing}`
          : 'upload'
      }
    </td>
    <td data-label="Status">
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
      ${doc.status === 'indexed' ? html`<div class="muted">${plural(doc.chunkCount, 'passage', 'passages')}</div>` : nothing}
      ${
        doc.status === 'waiting' && doc.nextAttemptAt
          ? html`<div class="muted" part="next-attempt">
              Next attempt at ${new Date(doc.nextAttemptAt).toLocaleTimeString()}
            </div>`
          : nothing
      }
      ${doc.error ? html`<div class=${doc.status === 'waiting' ? 'muted' : 'error'}>${doc.error}</div>` : nothing}
    </td>
    <td data-label="Who may read">
      ${
        changeable
          ? html`<select
              aria-label=${`Who may read ${doc.filename}`}
              @change=${(e: Event) => host.changeAccess(doc, (e.target as HTMLSelectElement).value)}
            >
              ${host
                .accessOptions(doc)
                .map(
                  (a) => html`<option value=${a} ?selected=${a === doc.access}>${accessLabel(a)}</option>`,
                )}
            </select>`
          : accessLabel(doc.access)
      }
    </td>
    <td data-label="Actions">
      ${
        host.confirming === doc.id
          ? confirmGroup({
              id: doc.id,
              label: `Confirm deletion of ${doc.filename}`,
              question: `Delete “${doc.filename}” for good?`,
              confirmText: 'Yes, delete',
              onConfirm: () => host.deleteDoc(doc),
              onCancel: () => (host.confirming = null),
              className: 'confirm',
            })
          : html`<div class="actions">
              ${
                stored
                  ? html`<button
                        type="button"
                        @click=${() => host.open(doc, false)}
                        aria-label=${`Open ${doc.filename}`}
                      >
                        Open
                      </button>
                      <button
                        type="button"
                        @click=${() => host.open(doc, true)}
                        aria-label=${`Download ${doc.filename}`}
                      >
                        Download
                      </button>`
                  : nothing
              }
              ${
                changeable && stored
                  ? html`<button
                      type="button"
                      @click=${() => host.reindex(doc)}
                      aria-label=${`Re-index ${doc.filename}`}
                    >
                      Re-index
                    </button>`
                  : nothing
              }
              ${
                changeable
                  ? html`<button
                      class="danger"
                      type="button"
                      @click=${() => host.askDelete(doc)}
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

/** The table of documents (cards on a phone); `header` makes a sortable column header. */
export function documentsTable(
  host: RattgDocuments,
  docs: DocumentInfo[],
  total: number,
  header: (key: SortKey, label?: string) => TemplateResult,
) {
  return html`<table part="table" class="stack">
    <caption class="sr-only">
      Documents (${total})
    </caption>
    <thead>
      <tr>
        ${header('filename', 'File')} ${header('owner')} ${header('createdAt')} ${header('source')}
        ${header('status')}
        <th scope="col">Who may read</th>
        <th scope="col">Actions</th>
      </tr>
    </thead>
    <tbody>
      ${repeat(
        docs,
        (d) => d.id,
        (d) => documentRow(host, d),
      )}
    </tbody>
  </table>`;
}
