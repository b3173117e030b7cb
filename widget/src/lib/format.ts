import type { ApiClient, DocumentInfo } from './api.js';

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

/** "page 2", "pages 1–2", or '' for formats without pages. */
export function pageRange(start: number | null | undefined, end: number | null | undefined): string {
  if (!start) return '';
  return end && end !== start ? `pages ${start}–${end}` : `page ${start}`;
}

/** Cosine similarity as a percentage a person can read ("82%"); null when not known. */
export function relevance(denseScore: number | null | undefined): number | null {
  if (typeof denseScore !== 'number' || Number.isNaN(denseScore)) return null;
  return Math.round(Math.min(1, Math.max(0, denseScore)) * 100);
}

/** "1 passage", "3 passages", "0 passages". */
export function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

export function accessLabel(access: string): string {
  if (access === 'private') return 'Only me';
  if (access === 'org') return 'Everyone';
  if (access.startsWith('group:')) return `Group ${access.slice(6)}`;
  return access;
}

/** Query terms worth highlighting: words of 2+ letters, longest first so overlaps prefer them. */
export function queryTerms(query: string): string[] {
  const words = query.toLowerCase().match(/[\p{L}\p{N}]{2,}/gu) ?? [];
  return [...new Set(words)].sort((a, b) => b.length - a.length);
}

/** Split text into plain and matching pieces; the caller renders them as text, never as HTML. */
export function splitHighlights(text: string, terms: string[]): { text: string; hit: boolean }[] {
  if (!terms.length) return [{ text, hit: false }];
  const escaped = terms.map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  const re = new RegExp(`(${escaped.join('|')})`, 'giu');
  return text
    .split(re)
    .filter((piece) => piece !== '')
    .map((piece) => ({ text: piece, hit: terms.includes(piece.toLowerCase()) }));
}

// Types the browser shows itself (the gateway serves them inline; everything else, HTML included,
// is downloaded as a harmless octet-stream Blob).
const VIEWABLE: Record<string, string> = {
  'application/pdf': 'application/pdf',
  'text/plain': 'text/plain;charset=utf-8',
  'text/csv': 'text/plain;charset=utf-8',
  'text/markdown': 'text/plain;charset=utf-8',
  'application/json': 'text/plain;charset=utf-8',
};

/**
 * Open the original in a new tab (PDF at a page, text as text) by a link-token URL, so the tab
 * carries the gateway's `Content-Disposition: inline; filename=…` and its sandboxing CSP; or
 * download anything else.
 */
export async function openOriginal(
  client: ApiClient,
  doc: Pick<DocumentInfo, 'id' | 'filename' | 'mime'>,
  opts: { download?: boolean; page?: number | null } = {},
): Promise<void> {
  const viewAs = VIEWABLE[doc.mime.split(';')[0]!.trim()];
  if (!opts.download && viewAs) {
    const url = await client.link(doc.id);
    window.open(url + (opts.page && viewAs === 'application/pdf' ? `#page=${opts.page}` : ''), '_blank');
    return;
  }
  const blob = await client.content(doc.id);
  const url = URL.createObjectURL(new Blob([blob], { type: 'application/octet-stream' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = doc.filename;
  a.rel = 'noopener';
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** "40 s", "3 min", "1 h 20 min": a rough duration for an estimate. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${Math.max(1, s)} s`;
  const min = Math.round(s / 60);
  if (min < 60) return `${min} min`;
  const h = Math.floor(min / 60);
  return min % 60 ? `${h} h ${min % 60} min` : `${h} h`;
}

/**
 * The page a passage over several pages matches on: the page whose part of the text holds the
 * most occurrences of the query terms (the first such page on a tie). Falls back to the first
 * page when the passage has no recorded page breaks (one page, or indexed before they were kept).
 */
export function hitPage(
  r: { text: string; page: number | null; pageBreaks?: [number, number][] | null },
  terms: string[],
): number | null {
  if (!r.page || !r.pageBreaks?.length || !terms.length) return r.page;
  const starts: [number, number][] = [[0, r.page], ...r.pageBreaks];
  let best = r.page;
  let bestCount = 0;
  starts.forEach(([from, page], i) => {
    const part = r.text.slice(from, starts[i + 1]?.[0] ?? r.text.length);
    const count = splitHighlights(part, terms).filter((p) => p.hit).length;
    if (count > bestCount) [best, bestCount] = [page, count];
  });
  return best;
}
