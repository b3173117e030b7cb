import { describe, expect, it } from 'vitest';
import { zipSync } from 'fflate';
import { parseDocument, detectFormat, type ParseContext } from '../src/pipeline/parse/index.js';
import { ParseError, type ParsedDocument } from '../src/pipeline/types.js';
import {
  makeDocx,
  makeImageOnlyPdf,
  makeManyEntryZip,
  makePdf,
  makePptx,
  makeXlsx,
  makeZipBomb,
} from './fixtures.js';

const silent = { debug() {}, info() {}, warn() {} };
const ctx = (extra: Partial<ParseContext> = {}): ParseContext => ({
  signal: new AbortController().signal,
  log: silent,
  ...extra,
});
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const parse = (filename: string, data: Uint8Array, mime?: string, c = ctx()): Promise<ParsedDocument> =>
  parseDocument({ data, filename, ...(mime ? { mime } : {}) }, c);

async function parseError(p: Promise<unknown>): Promise<ParseError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ParseError);
  return err as ParseError;
}

describe('parse: PDF (unpdf)', () => {
  it('keeps page numbers and takes headings from the outline', async () => {
    const pdf = await makePdf([
      { bookmark: 'Introduction', paragraphs: ['Alpha line on page one.', 'A second paragraph.'] },
      { paragraphs: ['Beta text on page two.'] },
      { bookmark: 'Method', paragraphs: ['Gamma text on page three.'] },
    ]);
    const doc = await parse('report.pdf', pdf, 'application/pdf');
    expect(doc.parser).toBe('pdf:unpdf');
    expect(doc.pageCount).toBe(3);
    expect(doc.sections.map((s) => [s.page, s.headingPath])).toEqual([
      [1, ['Introduction']],
      [2, ['Introduction']],
      [3, ['Method']],
    ]);
    expect(doc.sections[0]!.text).toBe('Alpha line on page one.\n\nA second paragraph.');
    expect(doc.sections[2]!.text).toContain('Gamma text on page three.');
  });

  it('refuses an encrypted PDF with a permanent, readable error', async () => {
    const pdf = await makePdf([{ paragraphs: ['secret'] }], { userPassword: 'pw' });
    const err = await parseError(parse('locked.pdf', pdf));
    expect(err.code).toBe('PARSE_ENCRYPTED');
    expect(err.permanent).toBe(true);
    expect(err.message).toMatch(/PDF is encrypted/);
  });

  it('says a PDF without text needs OCR', async () => {
    const err = await parseError(parse('scan.pdf', await makeImageOnlyPdf()));
    expect(err.code).toBe('PARSE_NO_TEXT');
    expect(err.permanent).toBe(true);
    expect(err.message).toBe('PDF has no extractable text (scanned? enable docling OCR)');
  });

  it('reports a corrupt PDF as permanent', async () => {
    const good = await makePdf([{ paragraphs: ['x'] }]);
    const err = await parseError(parse('broken.pdf', good.subarray(0, 200)));
    expect(err.code).toBe('PARSE_CORRUPT');
    expect(err.permanent).toBe(true);
    expect(err.message).toMatch(/^PDF is corrupt/);
  });
});

describe('parse: OOXML', () => {
  it('DOCX keeps heading levels and table rows', async () => {
    const doc = await parse('policy.docx', await makeDocx());
    expect(doc.parser).toBe('docx:mammoth');
    expect(doc.sections.map((s) => s.headingPath)).toEqual([
      ['Travel policy'],
      ['Travel policy', 'Booking'],
      ['Expenses'],
    ]);
    expect(doc.sections[1]!.text).toBe(
      'Book trains at least 14 days ahead through the portal.\n\nClass | Allowed\nSecond | Always',
    );
  });

  it('PPTX gives one section per slide with its title and notes', async () => {
    const doc = await parse('deck.pptx', await makePptx());
    expect(doc.pageCount).toBe(2);
    expect(doc.sections.map((s) => [s.page, s.headingPath])).toEqual([
      [1, ['Slide 1: Quarterly results']],
      [2, ['Slide 2: Next steps']],
    ]);
    expect(doc.sections[0]!.text).toContain('Revenue grew 12 percent');
    expect(doc.sections[0]!.text).toContain('Notes: Mention the new Berlin office.');
    expect(doc.sections[1]!.text).toBe('Hire two engineers.\nOpen the Madrid office.');
  });

  it('XLSX gives one section per sheet with its header row', async () => {
    const doc = await parse('data.xlsx', await makeXlsx());
    expect(doc.sections).toEqual([
      { headingPath: ['People'], header: 'Name | City | Age', text: 'Alice | Paris | 31\nBob | Lyon | 45' },
      { headingPath: ['Stock'], header: 'Item | Count', text: 'Widgets | 7\nGadgets | TRUE' },
    ]);
  });

  it('corrupt DOCX/PPTX/XLSX are permanent errors', async () => {
    for (const name of ['a.docx', 'a.pptx', 'a.xlsx']) {
      const err = await parseError(parse(name, utf8('this is not a zip file at all, sorry')));
      expect(err.code).toBe('PARSE_CORRUPT');
      expect(err.permanent).toBe(true);
      expect(err.message).toMatch(/^(DOCX|PPTX|XLSX) is corrupt/);
    }
    // A valid ZIP that is not a Word document.
    const err = await parseError(parse('b.docx', zipSync({ 'hello.txt': utf8('hi') })));
    expect(err.message).toBe('DOCX is corrupt: word/document.xml is missing');
  });

  it('refuses a zip bomb before inflating it', async () => {
    const bomb = makeZipBomb('word/document.xml', 20);
    expect(bomb.length).toBeLessThan(100_000);
    const err = await parseError(parse('bomb.docx', bomb));
    expect(err.code).toBe('PARSE_ZIP_BOMB');
    expect(err.permanent).toBe(true);
    expect(err.message).toMatch(/possible zip bomb/);
    // Total size limit and entry-count limit, each on its own.
    const small = await parseError(
      parse(
        'big.xlsx',
        makeZipBomb('xl/workbook.xml', 2),
        undefined,
        ctx({ limits: { zip: { maxUncompressedBytes: 1024 * 1024 } } }),
      ),
    );
    expect(small.code).toBe('PARSE_ZIP_BOMB');
    const many = await parseError(
      parse('many.pptx', makeManyEntryZip(50), undefined, ctx({ limits: { zip: { maxEntries: 20 } } })),
    );
    expect(many.code).toBe('PARSE_ZIP_BOMB');
    expect(many.message).toMatch(/more than 20 entries/);
  });
});

describe('parse: text formats', () => {
  it('HTML keeps headings and drops script, style and nav', async () => {
    const html = `<!doctype html><html><head><title>T</title><style>p{color:red}</style></head><body>
      <nav><a href="/">Home</a> <a href="/x">Menu item</a></nav>
      <h1>Guide</h1><p>Intro &amp; overview.</p><script>var secret = 1;</script>
      <h2>Setup</h2><p>Run   the
      installer.</p><ul><li>one</li><li>two</li></ul>
      <h3>Linux</h3><pre>apt  install x\n  y</pre>
      <h2>Use</h2><table><tr><th>A</th><th>B</th></tr><tr><td>1</td><td>2</td></tr></table>
      </body></html>`;
    const doc = await parse('guide.html', utf8(html), 'text/html');
    expect(doc.sections).toEqual([
      { headingPath: ['Guide'], text: 'Intro & overview.' },
      { headingPath: ['Guide', 'Setup'], text: 'Run the installer.\n\none\ntwo' },
      { headingPath: ['Guide', 'Setup', 'Linux'], text: 'apt install x\ny' },
      { headingPath: ['Guide', 'Use'], text: 'A | B\n1 | 2' },
    ]);
    const all = doc.sections.map((s) => s.text).join(' ');
    expect(all).not.toMatch(/secret|color|Menu item/);
  });

  it('Markdown headings come from its structure, not from lines inside code', async () => {
    const md = [
      'Preface text.',
      '',
      '# Title',
      'Body **one**.',
      '',
      '```sh',
      '# not a heading',
      '```',
      '',
      'Sub *heading*',
      '-------------',
      '',
      'Under sub.',
      '',
      '# Second',
      '- item',
    ].join('\n');
    const doc = await parse('notes.md', utf8(md));
    expect(doc.parser).toBe('md:marked');
    expect(doc.sections.map((s) => [s.headingPath, s.text])).toEqual([
      [[], 'Preface text.'],
      [['Title'], 'Body **one**.\n\n```sh\n# not a heading\n```'],
      [['Title', 'Sub heading'], 'Under sub.'],
      [['Second'], '- item'],
    ]);
  });

  it('TXT keeps paragraphs, normalises CRLF and decodes UTF-16', async () => {
    const doc = await parse('a.txt', utf8('\ufeffLine one\r\n\r\nLine two\r\n'));
    expect(doc.sections).toEqual([{ headingPath: [], text: 'Line one\n\nLine two' }]);
    const u16 = new Uint8Array([
      0xff,
      0xfe,
      ...new Uint8Array(new Uint16Array([...'Grüße'].map((c) => c.charCodeAt(0))).buffer),
    ]);
    expect((await parse('b.txt', u16)).sections[0]!.text).toBe('Grüße');
  });

  it('refuses binary content in a text file and empty files', async () => {
    const bin = await parseError(parse('x.txt', new Uint8Array([1, 2, 0, 3, 4])));
    expect(bin.code).toBe('PARSE_UNSUPPORTED');
    const empty = await parseError(parse('empty.txt', utf8('  \n\n ')));
    expect(empty.code).toBe('PARSE_NO_TEXT');
    expect(empty.message).toBe('empty.txt has no text to index');
  });

  it('CSV keeps the header row with the rows, guessing the delimiter', async () => {
    const doc = await parse('people.csv', utf8('name;city\n"Smith, Ann";Paris\nBob;"Lyon\nEst"\n'));
    expect(doc.sections).toEqual([
      { headingPath: [], header: 'name | city', text: 'Smith, Ann | Paris\nBob | Lyon Est' },
    ]);
    const tsv = await parse('t.tsv', utf8('a\tb\n1\t2\n'));
    expect(tsv.sections[0]).toMatchObject({ header: 'a | b', text: '1 | 2' });
    const bad = await parseError(parse('bad.csv', utf8('a,b\n"unclosed,2\n')));
    expect(bad.code).toBe('PARSE_CORRUPT');
  });

  it('JSON becomes key paths, one section per top-level key', async () => {
    const json = {
      service: { name: 'api', ports: [80, 443] },
      users: [{ id: 1, 'full name': 'Ann' }, { id: 2 }],
    };
    const doc = await parse('cfg.json', utf8(JSON.stringify(json)));
    expect(doc.sections).toEqual([
      { headingPath: ['service'], text: 'service.name: api\nservice.ports[0]: 80\nservice.ports[1]: 443' },
      { headingPath: ['users'], text: 'users[0].id: 1\nusers[0]."full name": Ann\n\nusers[1].id: 2' },
    ]);
    const bad = await parseError(parse('bad.json', utf8('{"a":')));
    expect(bad.code).toBe('PARSE_CORRUPT');
    expect(bad.message).toMatch(/^JSON is invalid/);
  });
});

describe('parse: dispatch and limits', () => {
  it('detects formats by magic bytes, MIME type and extension', () => {
    expect(detectFormat('x.bin', 'application/octet-stream', utf8('%PDF-1.7'))).toBe('pdf');
    expect(detectFormat('readme.md', 'text/plain')).toBe('md');
    expect(detectFormat('noext', 'text/csv')).toBe('csv');
    expect(detectFormat('a.exe', 'application/octet-stream')).toBeUndefined();
  });

  it('refuses unsupported types, oversized input and too much text', async () => {
    const un = await parseError(parse('a.exe', utf8('MZ')));
    expect(un.code).toBe('PARSE_UNSUPPORTED');
    const big = await parseError(
      parse('a.txt', utf8('x'.repeat(2000)), undefined, ctx({ limits: { maxBytes: 1000 } })),
    );
    expect(big.code).toBe('PARSE_TOO_LARGE');
    const chars = await parseError(
      parse('a.txt', utf8('word '.repeat(400)), undefined, ctx({ limits: { maxChars: 100 } })),
    );
    expect(chars.code).toBe('PARSE_TOO_LARGE');
    expect(chars.permanent).toBe(true);
  });

  it('gives up after the time limit, and passes a caller abort through unchanged', async () => {
    const md = utf8('# H\n\n' + 'para text here.\n\n'.repeat(200_000));
    const slow = await parseError(parse('big.md', md, undefined, ctx({ limits: { timeoutMs: 1 } })));
    expect(slow.code).toBe('PARSE_TIMEOUT');
    const ac = new AbortController();
    const reason = new Error('worker stopping');
    ac.abort(reason);
    await expect(parse('a.txt', utf8('hi'), undefined, ctx({ signal: ac.signal }))).rejects.toBe(reason);
  });
});
