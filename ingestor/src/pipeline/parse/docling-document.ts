/**
 * What docling-serve answered, as a parsed document: its Markdown split into sections by the shared
 * Markdown parser, cut at the page-break placeholders docling writes between pages (docling.ts says
 * why pages come from placeholders).
 */
import type { ParsedDocument } from '../types.js';
import { SectionSink, type ParserEnv } from './sink.js';
import { parseMarkdown } from './markdown.js';
import { DOCLING_PARSER, DoclingUnavailableError, errorText, type ConvertResponse } from './docling-types.js';

/** Written between pages by docling; an HTML comment, so it is its own Markdown block. */
export const PAGE_BREAK = '<!-- rattg:page-break -->';
const IMAGE_PLACEHOLDER = /^<!-- image -->$/gm;

/** docling's Markdown → sections with pages; the shared Markdown parser finds the headings. */
export function doclingDocument(
  response: ConvertResponse,
  { filename, env, isPdf, url }: { filename: string; env: ParserEnv; isPdf: boolean; url: string },
): ParsedDocument {
  const status = response.status;
  if (status !== 'success' && status !== 'partial_success') {
    throw new DoclingUnavailableError(
      'rejected',
      `docling-serve at ${url} could not convert ${filename} (${status ?? 'no status'}${errorText(response)})`,
    );
  }
  const md = response.document?.md_content;
  if (typeof md !== 'string') {
    throw new DoclingUnavailableError(
      'bad-response',
      `docling-serve at ${url} returned no Markdown for ${filename}`,
    );
  }
  const warnings: string[] = [];
  if (status === 'partial_success') {
    warnings.push(`docling-serve converted only part of ${filename}${errorText(response) || ''}`);
  }
  const source = md.replace(IMAGE_PLACEHOLDER, '');
  const sink = new SectionSink(env.limits.maxChars, filename);
  const parsed = parseMarkdown(new TextEncoder().encode(source), { ...env, out: sink, warnings: [] });
  // A DOCX has no pages of its own: docling puts it all on "page 1", which a citation should not repeat.
  const sections = assignPages(parsed.sections, env.out, isPdf || md.includes(PAGE_BREAK));
  if (sections === 0) {
    throw new DoclingUnavailableError('empty', `docling-serve at ${url} found no text in ${filename}`);
  }
  const pageCount = env.out.sections.reduce((n, s) => Math.max(n, s.page ?? 0), 0);
  return {
    sections: env.out.sections,
    ...(pageCount > 1 || md.includes(PAGE_BREAK) ? { pageCount } : {}),
    parser: DOCLING_PARSER,
    warnings: [...warnings, ...env.warnings],
  };
}

/**
 * Moves the Markdown parser's sections into `out`, cut at the page-break placeholders and given
 * 1-based page numbers. Returns the number of sections written.
 */
function assignPages(sections: ParsedDocument['sections'], out: SectionSink, paged: boolean): number {
  let page = 1;
  const before = out.sections.length;
  for (const section of sections) {
    const parts = section.text.split('\n\n');
    let run: string[] = [];
    const flush = (): void => {
      if (run.length > 0)
        out.push({ text: run.join('\n\n'), headingPath: section.headingPath, ...(paged ? { page } : {}) });
      run = [];
    };
    for (const part of parts) {
      if (part.trim() === PAGE_BREAK) {
        flush();
        page++;
      } else {
        run.push(part);
      }
    }
    flush();
  }
  return out.sections.length - before;
}
