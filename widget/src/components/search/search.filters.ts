import { html } from 'lit';
import type { ApiClient, DocumentInfo } from '../../lib/api.js';

/** Documents offered in the "Only in" list (the API's page maximum), by name. */
const LISTED = 200;

export interface FilterChoices {
  documents: Pick<DocumentInfo, 'id' | 'filename'>[];
  tags: string[];
  /** Indexed documents the user may read, when more than are listed. */
  total: number;
}

/** The indexed documents the user may read (first 200 by name) and the tags they carry. */
export async function loadFilterChoices(client: ApiClient): Promise<FilterChoices> {
  const res = await client.request<{ documents: DocumentInfo[]; total: number }>(
    'GET',
    `/documents?status=indexed&sort=filename&order=asc&limit=${LISTED}`,
  );
  const tags = [...new Set(res.documents.flatMap((d) => d.tags))].sort((a, b) => a.localeCompare(b));
  return { documents: res.documents, tags, total: res.total };
}

/** "a, b" → ['a', 'b'] (trimmed, no empties, no repeats). */
export function tagList(text: string): string[] {
  return [
    ...new Set(
      text
        .split(',')
        .map((t) => t.trim())
        .filter(Boolean),
    ),
  ];
}

/** The filter controls: tags (any of) and one document. */
export function searchFilters(choices: FilterChoices | null, onOpen: () => void) {
  const docs = choices?.documents ?? [];
  return html`<fieldset class="filters" part="filters" @focusin=${onOpen}>
    <legend>Narrow the search</legend>
    <label for="tags"
      >Tagged (any of, comma-separated)
      <input id="tags" name="tags" list="known-tags" autocomplete="off" />
    </label>
    <datalist id="known-tags">
      ${(choices?.tags ?? []).map((t) => html`<option value=${t}></option>`)}
    </datalist>
    <label for="doc"
      >Only in
      <select id="doc" name="doc">
        <option value="">All documents</option>
        ${docs.map((d) => html`<option value=${d.id}>${d.filename}</option>`)}
      </select>
    </label>
    ${
      choices && choices.total > docs.length
        ? html`<span class="muted"
            >The first ${docs.length} of ${choices.total} documents by name are listed.</span
          >`
        : ''
    }
  </fieldset>`;
}
