/**
 * Chunk stage: structure-aware packing of parsed sections into passages for embedding.
 *
 * - Consecutive sections with the same heading path (e.g. the pages of a PDF without headings) are
 *   packed together; a heading change always starts a new chunk, so every chunk has one heading
 *   path and a page range.
 * - Units, largest first: paragraph ("\n\n"), line, sentence (Intl.Segmenter), word, characters.
 *   A unit is split further only when it alone is over the budget, so paragraphs stay whole
 *   whenever they fit.
 * - Units are packed greedily up to the target; each new chunk in a section starts with the tail
 *   of the previous one (whole units, else its last sentences, else its last words) worth about
 *   `overlap × target` tokens, so a fact cut at a boundary is still found whole.
 * - No chunk's counted tokens exceed HARD_MAX_TOKENS (tokens.ts), whatever the target.
 *
 * Linear time: each unit's tokens are counted once (a chunk's count is the sum of its units plus
 * one per separator, an upper bound of counting the joined text), and chunk text is built with one
 * join per chunk — no repeated string concatenation.
 */
import { countTokens, HARD_MAX_TOKENS } from './tokens.js';
import type { Chunk, ParsedDocument, Section, StageContext } from './types.js';
import { overlapTail, splitToFit, type Piece, type PieceSink } from './chunk-split.js';

export interface ChunkOptions {
  /** Target tokens per chunk (CHUNK_TOKENS). Clamped to HARD_MAX_TOKENS. */
  targetTokens: number;
  /** Overlap as a fraction of the target (CHUNK_OVERLAP), 0 to 0.5. */
  overlap: number;
}

/** Bump when the output for the same input changes: the reconcile pass re-indexes stale documents. */
export const CHUNKER_VERSION = 'structure-v2';

/**
 * `text.split(/\n[ \t]*\n/)`, each part trimmed, empty ones left out: found with the native
 * search for line feeds instead of the pattern, which tries every character.
 */
function paragraphsOf(text: string): string[] {
  const out: string[] = [];
  let start = 0;
  let nl = text.indexOf('\n');
  while (nl >= 0) {
    let j = nl + 1;
    while (text.charCodeAt(j) === 32 || text.charCodeAt(j) === 9) j++;
    if (text.charCodeAt(j) === 10) {
      const part = text.slice(start, nl).trim();
      if (part.length > 0) out.push(part);
      start = j + 1;
      nl = text.indexOf('\n', start);
    } else {
      nl = text.indexOf('\n', nl + 1);
    }
  }
  const last = text.slice(start).trim();
  if (last.length > 0) out.push(last);
  return out;
}

export async function chunkDocument(
  doc: ParsedDocument,
  options: ChunkOptions,
  ctx: StageContext,
): Promise<Chunk[]> {
  ctx.signal.throwIfAborted();
  const chunks = chunkSections(doc.sections, options, ctx.signal);
  ctx.log.debug(
    { chunks: chunks.length, sections: doc.sections.length, parser: doc.parser },
    'chunked document',
  );
  return chunks;
}

/** The synchronous core, for callers that already hold sections (and for the benchmark). */
export function chunkSections(
  sections: readonly Section[],
  options: ChunkOptions,
  signal?: AbortSignal,
): Chunk[] {
  if (!(options.targetTokens > 0)) throw new RangeError('targetTokens must be positive');
  if (!(options.overlap >= 0 && options.overlap <= 0.5)) {
    throw new RangeError('overlap must be a fraction between 0 and 0.5');
  }
  const target = Math.min(Math.floor(options.targetTokens), HARD_MAX_TOKENS);
  const out: Chunk[] = [];

  let i = 0;
  while (i < sections.length) {
    signal?.throwIfAborted();
    const first = sections[i]!;
    let j = i + 1;
    while (j < sections.length && sameGroup(first, sections[j]!)) j++;
    packGroup(sections.slice(i, j), target, options.overlap, out);
    i = j;
  }
  return out;
}

function sameGroup(a: Section, b: Section): boolean {
  if (a.header !== b.header || a.headingPath.length !== b.headingPath.length) return false;
  for (let k = 0; k < a.headingPath.length; k++) {
    if (a.headingPath[k] !== b.headingPath[k]) return false;
  }
  return true;
}

function packGroup(group: Section[], target: number, overlap: number, out: Chunk[]): void {
  const headingPath = group[0]!.headingPath;
  let header = group[0]!.header?.trim() || undefined;
  let headerTokens = header ? countTokens(header) + 1 : 0;
  // A header that would eat most of every chunk is kept once as ordinary text instead.
  if (header && headerTokens > target / 2) {
    group = [{ ...group[0]!, text: `${header}\n${group[0]!.text}` }, ...group.slice(1)];
    header = undefined;
    headerTokens = 0;
  }
  const packer = new GroupPacker(
    out,
    headingPath,
    header,
    headerTokens,
    target - headerTokens,
    target,
    overlap,
  );
  for (const section of group) {
    for (const paragraph of paragraphsOf(section.text)) {
      splitToFit(paragraph, packer.budget, '\n\n', section.page, 0, packer);
    }
  }
  packer.finish();
}

/**
 * The chunk being filled for one group: pieces are added greedily and a full chunk is emitted
 * with the overlap carried into the next. A class, not closures per group, because a Markdown
 * file has a group per heading.
 */
class GroupPacker implements PieceSink {
  private parts: Piece[] = [];
  private used = 0;
  private readonly overlapTokens: number;

  constructor(
    private readonly out: Chunk[],
    private readonly headingPath: string[],
    private readonly header: string | undefined,
    private readonly headerTokens: number,
    readonly budget: number,
    target: number,
    overlap: number,
  ) {
    this.overlapTokens = Math.floor(target * overlap);
  }

  add(piece: Piece): void {
    const cost = piece.tokens + (this.parts.length > 0 ? 1 : 0);
    if (this.parts.length > 0 && this.used + cost > this.budget) {
      const previous = this.parts;
      this.emit();
      // Room for the overlap: never so much that the new piece would not fit.
      const room = Math.min(this.overlapTokens, this.budget - piece.tokens - 1);
      this.parts = room > 0 ? overlapTail(previous, room) : [];
      this.used = sumTokens(this.parts);
    }
    this.used += piece.tokens + (this.parts.length > 0 ? 1 : 0);
    this.parts.push(piece);
  }

  /**
   * Room left in the chunk being filled: a paragraph that must be split fills it first, so a
   * title or a short lead paragraph never stays alone in a chunk of its own.
   */
  room(): number {
    return this.parts.length > 0 ? this.budget - this.used - 1 : this.budget;
  }

  finish(): void {
    if (this.parts.length > 0) this.emit();
  }

  private emit(): void {
    const { header, headingPath, parts } = this;
    const texts: string[] = header ? [header, '\n'] : [];
    let pageMin: number | undefined;
    let pageMax: number | undefined;
    const breaks: [number, number][] = [];
    let offset = header ? header.length + 1 : 0;
    let lastPage: number | undefined;
    for (let k = 0; k < parts.length; k++) {
      const p = parts[k]!;
      if (k > 0) texts.push(p.sep);
      if (k > 0) offset += p.sep.length;
      if (p.page !== undefined && lastPage !== undefined && p.page !== lastPage)
        breaks.push([offset, p.page]);
      if (p.page !== undefined) lastPage = p.page;
      texts.push(p.text);
      offset += p.text.length;
      if (p.page !== undefined) {
        if (pageMin === undefined || p.page < pageMin) pageMin = p.page;
        if (pageMax === undefined || p.page > pageMax) pageMax = p.page;
      }
    }
    const chunk: Chunk = {
      index: this.out.length,
      text: texts.join(''),
      headingPath: [...headingPath],
      heading: headingPath.join(' > '),
      tokenCount: this.headerTokens + this.used,
    };
    if (pageMin !== undefined) chunk.page = pageMin;
    if (pageMax !== undefined && pageMax !== pageMin) {
      chunk.pageEnd = pageMax;
      chunk.pageBreaks = breaks;
    }
    this.out.push(chunk);
  }
}

function sumTokens(parts: Piece[]): number {
  let n = 0;
  for (let k = 0; k < parts.length; k++) n += parts[k]!.tokens + (k > 0 ? 1 : 0);
  return n;
}
