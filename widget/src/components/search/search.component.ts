import { LitElement, html, nothing } from 'lit';
import { property, query, state } from 'lit/decorators.js';
import { ApiError, type ApiClient, type SearchResult } from '../../lib/api.js';
import { emit } from '../../lib/emit.js';
import {
  hitPage,
  openOriginal,
  pageRange,
  plural,
  queryTerms,
  relevance,
  splitHighlights,
} from '../../lib/format.js';
import { loadFilterChoices, searchFilters, tagList, type FilterChoices } from './search.filters.js';
import { sharedStyles } from '../../styles/shared.styles.js';
import { searchStyles } from './search.styles.js';

/**
 * Search the documents the user may read. Results show file name, pages, heading, relevance (the
 * cosine similarity as a percentage; hits below `min-relevance` wait behind "Show weaker matches")
 * and the passage with the query terms highlighted (as text: document content is never parsed as HTML).
 * Selecting a result opens a preview panel with the passage in context and a link to the
 * original at that page; Escape or "Close preview" closes it and returns the focus to the result.
 *
 * @event rattg-result-select - A result was opened in the preview. `detail: { result }`.
 *
 * @csspart form - The search form.
 * @csspart results - The result list.
 * @csspart result - One result (a button).
 * @csspart preview - The preview panel.
 * @csspart show-weak - The button that shows the hits below the relevance floor.
 *
 * @cssproperty --rattg-color-highlight - Background of highlighted query terms.
 */
export class RattgSearch extends LitElement {
  static override styles = [sharedStyles, searchStyles];

  @property({ attribute: false }) accessor client: ApiClient | null = null;
  /** Results per search. */
  @property({ type: Number }) accessor limit = 10;
  /**
   * Weakest relevance shown by default (cosine similarity, 0–1): weaker hits hide behind "Show
   * weaker matches", so a question with no good answer says so instead of listing noise.
   */
  @property({ type: Number, attribute: 'min-relevance' }) accessor minRelevance = 0.5;

  @state() accessor results: SearchResult[] = [];
  @state() accessor terms: string[] = [];
  @state() accessor selected: SearchResult | null = null;
  @state() accessor status = '';
  @state() accessor error = '';
  @state() accessor busy = false;
  @state() accessor showWeak = false;
  @state() accessor choices: FilterChoices | null = null;

  @query('#q') accessor input!: HTMLInputElement;
  @query('#tags') accessor tagsInput!: HTMLInputElement | null;
  @query('#doc') accessor docSelect!: HTMLSelectElement | null;
  @query('aside') accessor preview!: HTMLElement | null;

  private abort: AbortController | null = null;

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.abort?.abort();
  }

  /** The filter choices, fetched once when the filters are first used. */
  private async openFilters(): Promise<void> {
    if (this.choices || !this.client) return;
    try {
      this.choices = await loadFilterChoices(this.client);
    } catch {
      // Without the lists the filters still work by typing a tag; the search reports real errors.
    }
  }

  /** The request's filters from the controls: tags (any of) and one document. */
  private filters(): { tags?: string[]; documentIds?: string[] } {
    const tags = tagList(this.tagsInput?.value ?? '');
    const doc = this.docSelect?.value;
    return { ...(tags.length ? { tags } : {}), ...(doc ? { documentIds: [doc] } : {}) };
  }

  /** Run a search (the host page may call this). */
  async search(text: string): Promise<void> {
    const q = text.trim();
    if (!this.client || !q) return;
    this.abort?.abort();
    const abort = (this.abort = new AbortController());
    this.busy = true;
    this.error = '';
    this.status = 'Searching…';
    try {
      const res = await this.client.request<{ results: SearchResult[]; tookMs?: number }>(
        'POST',
        '/search',
        { query: q, limit: this.limit, ...this.filters() },
        abort.signal,
      );
      this.results = res.results;
      this.terms = queryTerms(q);
      this.selected = null;
      this.showWeak = false;
      this.status = this.statusText();
    } catch (err) {
      if ((err as Error).name === 'AbortError') return;
      this.results = [];
      this.status = '';
      this.error = err instanceof ApiError ? err.message : 'Search failed';
    } finally {
      if (this.abort === abort) this.busy = false;
    }
  }

  private strong(r: SearchResult): boolean {
    return (relevance(r.denseScore) ?? 0) >= Math.round(this.minRelevance * 100);
  }

  private visible(): SearchResult[] {
    return this.showWeak ? this.results : this.results.filter((r) => this.strong(r));
  }

  private statusText(): string {
    const all = this.results.length;
    if (!all)
      return Object.keys(this.filters()).length
        ? 'Nothing found with these filters. Clear them or try other words.'
        : 'Nothing found. Try other words, or check that your documents are indexed.';
    const shown = this.visible().length;
    if (!shown) return 'No passage matches well enough.';
    const hidden = all - shown;
    return (
      plural(shown, 'result', 'results') +
      (hidden ? ` · ${plural(hidden, 'weaker match', 'weaker matches')} hidden` : '')
    );
  }

  private async revealWeak(): Promise<void> {
    this.showWeak = true;
    this.status = this.statusText();
  }

  private async select(r: SearchResult): Promise<void> {
    this.selected = r;
    emit(this, 'rattg-result-select', { result: r });
    await this.updateComplete;
    this.preview?.focus();
  }

  private highlighted(text: string) {
    return splitHighlights(text, this.terms).map((p) => (p.hit ? html`<mark>${p.text}</mark>` : p.text));
  }

  private where(r: SearchResult): string {
    const rel = relevance(r.denseScore);
    const hit = hitPage(r, this.terms);
    return [
      pageRange(r.page, r.pageEnd) + (r.pageEnd && hit && hit !== r.page ? ` (match on page ${hit})` : ''),
      r.heading ?? '',
      rel === null ? 'keyword match' : `relevance ${rel}%`,
    ]
      .filter(Boolean)
      .join(' · ');
  }

  private renderPreview(r: SearchResult) {
    // The passage in context: the neighbouring passages of the same document among the results.
    const context = this.results
      .filter((x) => x.documentId === r.documentId)
      .sort((a, b) => a.chunkIndex - b.chunkIndex);
    return html`<aside part="preview" tabindex="-1" aria-labelledby="preview-title">
      <h3 id="preview-title">${r.filename}</h3>
      <div class="meta">${this.where(r)} · passage ${r.chunkIndex + 1}</div>
      <div class="context">
        ${context.map(
          (x) => html`<p class="passage ${x === r ? 'current' : ''}">${this.highlighted(x.text)}</p>`,
        )}
      </div>
      <p class="row">
        <button type="button" class="primary" @click=${() => this.openSource(r)}>
          Open the original${r.page ? ` at page ${hitPage(r, this.terms)}` : ''}
        </button>
        <button type="button" @click=${() => this.closePreview()}>Close preview</button>
      </p>
      <div class="error" role="alert">${this.error}</div>
    </aside>`;
  }

  private async openSource(r: SearchResult): Promise<void> {
    if (!this.client) return;
    try {
      const doc = await this.client.request<{ id: string; filename: string; mime: string }>(
        'GET',
        `/documents/${r.documentId}`,
      );
      await openOriginal(this.client, doc, { page: hitPage(r, this.terms) });
    } catch (err) {
      this.error = err instanceof ApiError ? err.message : 'Could not open the original';
    }
  }

  /** Escape closes the preview, wherever the focus is inside the results or the panel. */
  private onKey = (e: KeyboardEvent): void => {
    if (e.key !== 'Escape' || !this.selected) return;
    e.preventDefault();
    void this.closePreview();
  };

  private async closePreview(): Promise<void> {
    const current = this.selected;
    this.selected = null;
    await this.updateComplete;
    const idx = current ? this.visible().indexOf(current) : -1;
    this.shadowRoot?.querySelector<HTMLElement>(`[data-index="${idx}"]`)?.focus();
  }

  override render() {
    return html`
      <form
        part="form"
        role="search"
        @submit=${(e: Event) => (e.preventDefault(), void this.search(this.input.value))}
      >
        <label for="q">Search your documents <input id="q" type="search" autocomplete="off" /></label>
        <button class="primary" type="submit" ?disabled=${this.busy}>Search</button>
        ${searchFilters(this.choices, () => void this.openFilters())}
      </form>
      <div class="muted" role="status" aria-live="polite">${this.status}</div>
      ${
        !this.showWeak && this.visible().length < this.results.length
          ? html`<button type="button" class="weak" part="show-weak" @click=${this.revealWeak}>
              Show ${plural(this.results.length - this.visible().length, 'weaker match', 'weaker matches')}
            </button>`
          : nothing
      }
      <div class="error" role="alert">${this.selected ? '' : this.error}</div>
      <div class="layout ${this.selected ? '' : 'no-preview'}" @keydown=${this.onKey}>
        <ol part="results" aria-label="Search results">
          ${this.visible().map(
            (r, i) =>
              html`<li>
                <button
                  type="button"
                  class="result"
                  part="result"
                  data-index=${i}
                  aria-current=${this.selected === r ? 'true' : 'false'}
                  @click=${() => this.select(r)}
                >
                  <strong>${r.filename}</strong>
                  <span class="meta">${this.where(r)}</span>
                  <span class="passage">${this.highlighted(r.text)}</span>
                </button>
              </li>`,
          )}
        </ol>
        ${this.selected ? this.renderPreview(this.selected) : nothing}
      </div>
    `;
  }
}
