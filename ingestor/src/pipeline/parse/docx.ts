/**
 * DOCX → HTML with mammoth (keeps Word's heading styles as h1-h6), then the HTML parser.
 * The archive is checked and re-packed by the zip guard first, so mammoth's own unzip (JSZip)
 * only ever sees entries whose sizes were verified.
 */
import mammoth from 'mammoth';
import { ParseError, type ParsedDocument } from '../types.js';
import type { ParserEnv } from './sink.js';
import { parseHtmlString } from './html.js';
import { extractZip, inspectZip, repackZip } from './zip.js';

export async function parseDocx(data: Uint8Array, env: ParserEnv): Promise<ParsedDocument> {
  const entries = inspectZip(data, env.limits.zip, 'DOCX');
  if (!entries.some((e) => e.name === 'word/document.xml')) {
    throw new ParseError('PARSE_CORRUPT', 'DOCX is corrupt: word/document.xml is missing');
  }
  // Media (images) are not needed for text; leave them packed.
  const files = extractZip(data, (name) => !name.startsWith('word/media/'), 'DOCX');
  env.checkpoint();
  let html: string;
  try {
    const result = await mammoth.convertToHtml(
      { buffer: Buffer.from(repackZip(files)) },
      {
        ignoreEmptyParagraphs: true,
        convertImage: mammoth.images.imgElement(() => Promise.resolve({ src: '' })),
      },
    );
    html = result.value;
    const notes = new Set(result.messages.filter((m) => m.type === 'warning').map((m) => m.message));
    if (notes.size > 0) env.warnings.push(...[...notes].slice(0, 20).map((m) => `docx: ${m}`));
  } catch (err) {
    throw new ParseError('PARSE_CORRUPT', `DOCX is corrupt: ${(err as Error).message}`, { cause: err });
  }
  return parseHtmlString(html, env, 'docx:mammoth');
}
