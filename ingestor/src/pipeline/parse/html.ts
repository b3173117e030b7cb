/**
 * HTML → sections with heading paths, using htmlparser2's streaming parser (forgiving of broken
 * markup, entity decoding, no DOM built). Scripts, styles, navigation and other chrome are dropped;
 * h1-h6 start new sections; block elements end paragraphs; table cells are joined with " | ".
 * Also used for DOCX, which mammoth converts to HTML.
 */
import { Parser } from 'htmlparser2';
import type { ParsedDocument } from '../types.js';
import type { ParserEnv } from './sink.js';

const SKIP = new Set([
  'script',
  'style',
  'nav',
  'noscript',
  'template',
  'svg',
  'head',
  'iframe',
  'object',
  'canvas',
  'button',
  'select',
]);
const BLOCK = new Set([
  'p',
  'div',
  'section',
  'article',
  'main',
  'header',
  'footer',
  'aside',
  'ul',
  'ol',
  'dl',
  'dt',
  'dd',
  'table',
  'thead',
  'tbody',
  'tfoot',
  'blockquote',
  'pre',
  'figure',
  'figcaption',
  'form',
  'fieldset',
  'address',
  'details',
  'summary',
  'hr',
  'caption',
  'body',
  'html',
]);
const LINE = new Set(['br', 'li', 'tr']);
const HEADING = /^h([1-6])$/;

export function parseHtmlString(html: string, env: ParserEnv, parser: string): ParsedDocument {
  const levels: string[] = [];
  let headingPath: string[] = [];
  let paragraphs: string[] = [];
  let fragments: string[] = [];
  let skipDepth = 0;
  let preDepth = 0;
  let headingLevel = 0;
  let headingText: string[] = [];
  let cellsInRow = 0;
  // Inside a table cell, block elements (mammoth wraps cell text in <p>) must not break the row.
  let cellDepth = 0;

  const endParagraph = (): void => {
    if (fragments.length === 0) return;
    const text = fragments
      .join('')
      .split('\n')
      .map((line) => line.replace(/[ \t\f\v\u00a0]+/g, ' ').trim())
      .filter((line) => line.length > 0)
      .join('\n');
    fragments = [];
    if (text.length > 0) paragraphs.push(text);
  };
  const endSection = (): void => {
    endParagraph();
    if (paragraphs.length === 0) return;
    env.out.push({ text: paragraphs.join('\n\n'), headingPath });
    paragraphs = [];
  };

  const p = new Parser(
    {
      onopentag(name, attrs) {
        // htmlparser2 reports a close for every open (implied and void ones too), so counting
        // depth inside a skipped subtree is exact.
        if (skipDepth > 0) {
          skipDepth++;
          return;
        }
        if (SKIP.has(name) || attrs['aria-hidden'] === 'true' || attrs.role === 'navigation') {
          skipDepth = 1;
          return;
        }
        const h = HEADING.exec(name);
        if (h) {
          endSection();
          headingLevel = Number(h[1]);
          headingText = [];
          return;
        }
        if (name === 'pre') preDepth++;
        if (BLOCK.has(name)) {
          if (cellDepth > 0 && name !== 'table') fragments.push(' ');
          else endParagraph();
        } else if (LINE.has(name)) {
          fragments.push('\n');
          if (name === 'tr') cellsInRow = 0;
        } else if (name === 'td' || name === 'th') {
          if (cellsInRow > 0) fragments.push(' | ');
          cellsInRow++;
          cellDepth++;
        } else if (name === 'img' && attrs.alt) {
          fragments.push(` ${attrs.alt} `);
        }
      },
      ontext(text) {
        if (skipDepth > 0) return;
        if (headingLevel > 0) {
          headingText.push(text);
          return;
        }
        fragments.push(preDepth > 0 ? text : text.replace(/\s+/g, ' '));
      },
      onclosetag(name) {
        if (skipDepth > 0) {
          skipDepth--;
          return;
        }
        const h = HEADING.exec(name);
        if (h && headingLevel > 0) {
          const title = headingText.join('').replace(/\s+/g, ' ').trim();
          headingLevel = Number(h[1]);
          if (title.length > 0) {
            levels.length = headingLevel;
            levels[headingLevel - 1] = title;
            headingPath = levels.filter((x) => typeof x === 'string' && x.length > 0);
          }
          headingLevel = 0;
          return;
        }
        if (name === 'pre') preDepth = Math.max(0, preDepth - 1);
        if (name === 'td' || name === 'th') cellDepth = Math.max(0, cellDepth - 1);
        else if (BLOCK.has(name)) {
          if (cellDepth > 0 && name !== 'table') fragments.push(' ');
          else endParagraph();
        } else if (name === 'tr' || name === 'li') fragments.push('\n');
      },
    },
    { decodeEntities: true, lowerCaseTags: true },
  );

  // Feed in slices so a long document can be aborted between them.
  const SLICE = 1 << 20;
  for (let i = 0; i < html.length; i += SLICE) {
    env.checkpoint();
    p.write(html.slice(i, i + SLICE));
  }
  p.end();
  endSection();
  return { sections: env.out.sections, parser, warnings: env.warnings };
}
