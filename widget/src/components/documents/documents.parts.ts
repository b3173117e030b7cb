import { html, nothing } from 'lit';

/** Pieces of rattg-documents that need no state of their own: words, sort controls, the pager. */

export type SortKey = 'createdAt' | 'filename' | 'size' | 'status' | 'owner' | 'source';
export type SortOrder = 'asc' | 'desc';
export interface Sorting {
  sort: SortKey;
  order: SortOrder;
}

export const SORT_LABELS: Record<SortKey, string> = {
  createdAt: 'Added',
  filename: 'File name',
  size: 'Size',
  status: 'Status',
  owner: 'Owner',
  source: 'Source',
};

export const STATUS_WORDS: Record<string, string> = {
  pending: 'Waiting',
  processing: 'Indexing',
  // `waiting`: a service the document needs failed; it is tried again at nextAttemptAt by itself.
  waiting: 'Retrying',
  indexed: 'Indexed',
  failed: 'Failed',
  cancelled: 'Cancelled',
};

export function sortWords(key: SortKey, order: SortOrder): string {
  if (key === 'createdAt') return order === 'desc' ? 'newest first' : 'oldest first';
  if (key === 'size') return order === 'desc' ? 'largest first' : 'smallest first';
  return order === 'asc' ? 'A–Z' : 'Z–A';
}

/** A column header that sorts by its column and says how it is sorted (aria-sort). */
export function sortHeader(key: SortKey, label: string, now: Sorting, onSort: (key: SortKey) => void) {
  const active = now.sort === key;
  return html`<th
    scope="col"
    aria-sort=${active ? (now.order === 'asc' ? 'ascending' : 'descending') : 'none'}
  >
    <button type="button" class="sort" @click=${() => onSort(key)}>
      ${label}<span aria-hidden="true">${active ? (now.order === 'asc' ? ' ▲' : ' ▼') : ''}</span>
    </button>
  </th>`;
}

/** The same choice as a select: the only sort control on a phone, where headers are hidden. */
export function sortSelect(now: Sorting, onSort: (key: SortKey, order: SortOrder) => void) {
  return html`<label for="sort"
    >Sort by
    <select
      id="sort"
      @change=${(e: Event) => {
        const [key, order] = (e.target as HTMLSelectElement).value.split(':') as [SortKey, SortOrder];
        onSort(key, order);
      }}
    >
      ${(Object.keys(SORT_LABELS) as SortKey[]).flatMap((k) =>
        (['asc', 'desc'] as const).map(
          (o) =>
            html`<option value=${`${k}:${o}`} ?selected=${now.sort === k && now.order === o}>
              ${SORT_LABELS[k]}, ${sortWords(k, o)}
            </option>`,
        ),
      )}
    </select></label
  >`;
}

export function pager(
  at: { page: number; size: number; total: number; shown: number },
  goTo: (page: number) => void,
) {
  const pages = Math.max(1, Math.ceil(at.total / at.size));
  if (at.total <= at.size && at.page === 0) return nothing;
  const first = at.page * at.size + 1;
  const last = Math.min(at.total, first + at.shown - 1);
  return html`<nav class="pager row" part="pager" aria-label="Pages of documents">
    <button type="button" ?disabled=${at.page === 0} @click=${() => goTo(at.page - 1)}>Previous</button>
    <span class="muted">Documents ${first}–${last} of ${at.total} · page ${at.page + 1} of ${pages}</span>
    <button type="button" ?disabled=${at.page + 1 >= pages} @click=${() => goTo(at.page + 1)}>Next</button>
  </nav>`;
}
