/**
 * PDF → one section per page, with page numbers, via unpdf (a serverless build of Mozilla's
 * PDF.js: pure JS, no worker thread, no native code). Heading paths come from the PDF's outline
 * (bookmarks) when it has one: each page falls under the deepest bookmark that starts on or
 * before it.
 */
import { getDocumentProxy } from 'unpdf';
import { ParseError, type ParsedDocument } from '../types.js';
import type { ParserEnv } from './sink.js';

type PdfDocument = Awaited<ReturnType<typeof getDocumentProxy>>;

interface TextItemLike {
  str: string;
  hasEOL: boolean;
  transform: number[];
  height: number;
}

export async function parsePdf(data: Uint8Array, env: ParserEnv): Promise<ParsedDocument> {
  let pdf: PdfDocument;
  try {
    // PDF.js may transfer (detach) the buffer it is given; hand it a copy.
    pdf = await getDocumentProxy(new Uint8Array(data), { stopAtErrors: false, verbosity: 0 });
  } catch (err) {
    throw classifyPdfError(err);
  }
  try {
    const pageCount = pdf.numPages;
    const headings = await outlineByPage(pdf, pageCount, env);
    for (let n = 1; n <= pageCount; n++) {
      env.checkpoint();
      let text: string;
      try {
        const page = await pdf.getPage(n);
        const content = await page.getTextContent();
        text = pageText(content.items as unknown[]);
        page.cleanup();
      } catch (err) {
        if (env.signal.aborted) throw err;
        env.warnings.push(`page ${n} could not be read (${(err as Error).message})`);
        continue;
      }
      env.out.push({ text, headingPath: headings[n] ?? [], page: n });
    }
    if (env.out.sections.length === 0) {
      throw new ParseError('PARSE_NO_TEXT', 'PDF has no extractable text (scanned? enable docling OCR)', {
        details: { pageCount },
      });
    }
    return { sections: env.out.sections, pageCount, parser: 'pdf:unpdf', warnings: env.warnings };
  } finally {
    await pdf.loadingTask.destroy().catch(() => undefined);
  }
}

function classifyPdfError(err: unknown): ParseError {
  const name = (err as { name?: string } | null)?.name ?? '';
  const message = err instanceof Error ? err.message : String(err);
  if (name === 'PasswordException') {
    return new ParseError(
      'PARSE_ENCRYPTED',
      'PDF is encrypted (password protected); upload an unprotected copy',
      { cause: err },
    );
  }
  return new ParseError('PARSE_CORRUPT', `PDF is corrupt: ${message}`, { cause: err });
}

/**
 * Rebuilds lines and paragraphs from positioned text items: PDF.js marks line ends (`hasEOL`);
 * a vertical jump of more than ~1.6 line heights between lines is a paragraph break.
 */
function pageText(items: unknown[]): string {
  const out: string[] = [];
  let lastY: number | undefined;
  let lastHeight = 0;
  let lineStart = true;
  for (const raw of items) {
    const item = raw as Partial<TextItemLike>;
    if (typeof item.str !== 'string') continue; // marked-content markers
    const y = item.transform?.[5];
    if (lineStart && y !== undefined && lastY !== undefined && item.str.length > 0) {
      const gap = Math.abs(lastY - y);
      const height = item.height || lastHeight || 10;
      out.push(gap > height * 1.6 ? '\n\n' : '\n');
    }
    if (item.str.length > 0) {
      out.push(item.str);
      lineStart = false;
      if (y !== undefined) lastY = y;
      if (item.height) lastHeight = item.height;
    }
    if (item.hasEOL) lineStart = true;
  }
  return out.join('');
}

interface OutlineNode {
  title: string;
  dest: string | unknown[] | null;
  items?: OutlineNode[];
}

/** page number → heading path, from the document outline; empty when there is none. */
async function outlineByPage(pdf: PdfDocument, pageCount: number, env: ParserEnv): Promise<string[][]> {
  const byPage: string[][] = [];
  let outline: OutlineNode[] | null;
  try {
    outline = (await pdf.getOutline()) as OutlineNode[] | null;
  } catch {
    return byPage;
  }
  if (!outline || outline.length === 0) return byPage;
  // Flatten in document order with each bookmark's path and first page.
  const marks: { page: number; path: string[] }[] = [];
  const walk = async (nodes: OutlineNode[], parents: string[]): Promise<void> => {
    for (const node of nodes) {
      env.checkpoint();
      const path = [...parents, node.title.trim() || 'Untitled'];
      const page = await destPage(pdf, node.dest);
      if (page !== undefined) marks.push({ page, path });
      if (node.items?.length && path.length < 8) await walk(node.items, path);
    }
  };
  try {
    await walk(outline, []);
  } catch (err) {
    if (env.signal.aborted) throw err;
    env.warnings.push('the PDF outline could not be read; pages have no headings');
    return byPage;
  }
  marks.sort((a, b) => a.page - b.page); // stable: same-page bookmarks keep outline order
  let m = 0;
  let current: string[] = [];
  for (let n = 1; n <= pageCount; n++) {
    while (m < marks.length && marks[m]!.page <= n) current = marks[m++]!.path;
    byPage[n] = current;
  }
  return byPage;
}

async function destPage(pdf: PdfDocument, dest: OutlineNode['dest']): Promise<number | undefined> {
  try {
    const explicit = typeof dest === 'string' ? await pdf.getDestination(dest) : dest;
    if (!Array.isArray(explicit) || explicit.length === 0) return undefined;
    const ref = explicit[0] as unknown;
    if (typeof ref === 'number') return ref + 1;
    return (await pdf.getPageIndex(ref as Parameters<PdfDocument['getPageIndex']>[0])) + 1;
  } catch {
    return undefined;
  }
}
