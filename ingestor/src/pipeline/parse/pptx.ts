/**
 * PPTX → one section per slide, in presentation order (ppt/presentation.xml's slide list), with
 * "Slide N: <title>" as the heading and the slide number as `page`. Speaker notes are appended to
 * their slide. Reads the XML itself (fflate + htmlparser2): officeparser flattens slides into one
 * string and pulls in OCR and PDF engines we do not want.
 */
import type { Unzipped } from 'fflate';
import { ParseError, type ParsedDocument } from '../types.js';
import type { ParserEnv } from './sink.js';
import { readRels, walkXml } from './xml.js';
import { entryText, extractZip, inspectZip } from './zip.js';

export async function parsePptx(data: Uint8Array, env: ParserEnv): Promise<ParsedDocument> {
  inspectZip(data, env.limits.zip, 'PPTX');
  const files = extractZip(data, (n) => n.endsWith('.xml') || n.endsWith('.rels'), 'PPTX');
  const slides = slideOrder(files);
  if (slides.length === 0) {
    throw new ParseError('PARSE_CORRUPT', 'PPTX is corrupt: it has no slides (ppt/slides/*.xml missing)');
  }
  for (let i = 0; i < slides.length; i++) {
    env.checkpoint();
    const part = slides[i]!;
    const xml = entryText(files, part);
    if (!xml) {
      env.warnings.push(`slide ${i + 1} (${part}) is missing`);
      continue;
    }
    const { title, body } = slideText(xml);
    const notes = notesFor(files, part);
    const number = i + 1;
    const text = [body, notes ? `Notes: ${notes}` : ''].filter(Boolean).join('\n\n');
    env.out.push({
      text: text || title,
      headingPath: [title ? `Slide ${number}: ${title}` : `Slide ${number}`],
      page: number,
    });
  }
  return { sections: env.out.sections, pageCount: slides.length, parser: 'pptx', warnings: env.warnings };
}

function slideOrder(files: Unzipped): string[] {
  const rels = readRels(entryText(files, 'ppt/_rels/presentation.xml.rels'), 'ppt/');
  const ordered: string[] = [];
  const presentation = entryText(files, 'ppt/presentation.xml');
  if (presentation) {
    walkXml(presentation, {
      open(name, attrs) {
        if (name === 'p:sldId') {
          const target = attrs['r:id'] ? rels.get(attrs['r:id']) : undefined;
          if (target && files[target]) ordered.push(target);
        }
      },
    });
  }
  if (ordered.length > 0) return ordered;
  // No usable slide list: fall back to file numbering.
  return Object.keys(files)
    .filter((n) => /^ppt\/slides\/slide\d+\.xml$/.test(n))
    .sort((a, b) => slideNo(a) - slideNo(b));
}

function slideNo(name: string): number {
  return Number(/(\d+)\.xml$/.exec(name)?.[1] ?? 0);
}

/** Paragraphs of each shape; the title placeholder's text is the title. */
function slideText(xml: string): { title: string; body: string } {
  let title = '';
  const blocks: string[] = [];
  let shapeIsTitle = false;
  let shapeParas: string[] = [];
  let para: string[] = [];
  let inText = false;
  let shapeDepth = 0;
  walkXml(xml, {
    open(name, attrs) {
      if (name === 'p:sp' || name === 'p:graphicFrame') {
        if (shapeDepth++ === 0) {
          shapeIsTitle = false;
          shapeParas = [];
        }
      } else if (name === 'p:ph' && (attrs.type === 'title' || attrs.type === 'ctrTitle')) {
        shapeIsTitle = true;
      } else if (name === 'a:t') inText = true;
      else if (name === 'a:br') para.push('\n');
      else if (name === 'a:tc' && para.length > 0) para.push(' | ');
    },
    text(t) {
      if (inText) para.push(t);
    },
    close(name) {
      if (name === 'a:t') inText = false;
      else if (name === 'a:p') {
        const line = para.join('').trim();
        para = [];
        if (line) shapeParas.push(line);
      } else if ((name === 'p:sp' || name === 'p:graphicFrame') && --shapeDepth === 0) {
        const text = shapeParas.join('\n');
        if (shapeIsTitle && !title) title = text.replace(/\s+/g, ' ');
        else if (text) blocks.push(text);
      }
    },
  });
  return { title, body: blocks.join('\n\n') };
}

function notesFor(files: Unzipped, slidePart: string): string {
  const relsPart = slidePart.replace(/slides\/(slide\d+\.xml)$/, 'slides/_rels/$1.rels');
  const rels = readRels(entryText(files, relsPart), 'ppt/slides/');
  for (const target of rels.values()) {
    if (!target.includes('notesSlides/')) continue;
    const xml = entryText(files, target);
    if (!xml) continue;
    const { body } = slideText(xml);
    // Notes slides repeat the slide number placeholder; keep only real text.
    return body
      .split('\n')
      .filter((l) => !/^\d+$/.test(l.trim()))
      .join(' ')
      .trim();
  }
  return '';
}
