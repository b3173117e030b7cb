/**
 * Fixture generators: every test document is written by an npm library at test time, so the tests
 * exercise files made by real producers (pdfkit, docx, pptxgenjs, exceljs) and nothing binary is
 * committed.
 */
import PDFDocument from 'pdfkit';
import { Document, HeadingLevel, Packer, Paragraph, Table, TableCell, TableRow } from 'docx';
import PptxGenJSModule from 'pptxgenjs';
import ExcelJS from 'exceljs';
import { zipSync } from 'fflate';

// pptxgenjs's types describe its CommonJS build (default export under `.default`); the ESM build
// Node loads exports the class itself.
const PptxGenJS = ((PptxGenJSModule as unknown as { default?: unknown }).default ??
  PptxGenJSModule) as typeof PptxGenJSModule.default;

export interface PdfPage {
  /** Adds a bookmark (outline entry) pointing at this page. */
  bookmark?: string;
  paragraphs: string[];
}

export function makePdf(pages: PdfPage[], options: { userPassword?: string } = {}): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const doc = new PDFDocument({
      autoFirstPage: false,
      ...(options.userPassword ? { userPassword: options.userPassword, ownerPassword: 'owner' } : {}),
    });
    const parts: Buffer[] = [];
    doc.on('data', (b: Buffer) => parts.push(b));
    doc.on('end', () => resolve(Buffer.concat(parts)));
    doc.on('error', reject);
    for (const page of pages) {
      doc.addPage();
      if (page.bookmark) doc.outline.addItem(page.bookmark);
      for (const p of page.paragraphs) {
        doc.fontSize(12).text(p);
        doc.moveDown(1.5);
      }
    }
    doc.end();
  });
}

/** A page with only a drawn shape: what a scanned PDF looks like without OCR. */
export function makeImageOnlyPdf(): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const doc = new PDFDocument();
    const parts: Buffer[] = [];
    doc.on('data', (b: Buffer) => parts.push(b));
    doc.on('end', () => resolve(Buffer.concat(parts)));
    doc.on('error', reject);
    doc.rect(50, 50, 200, 100).fill('#333333');
    doc.end();
  });
}

export async function makeDocx(): Promise<Buffer> {
  const doc = new Document({
    sections: [
      {
        children: [
          new Paragraph({ text: 'Travel policy', heading: HeadingLevel.HEADING_1 }),
          new Paragraph('This policy covers business travel for all staff.'),
          new Paragraph({ text: 'Booking', heading: HeadingLevel.HEADING_2 }),
          new Paragraph('Book trains at least 14 days ahead through the portal.'),
          new Table({
            rows: [
              new TableRow({
                children: [
                  new TableCell({ children: [new Paragraph('Class')] }),
                  new TableCell({ children: [new Paragraph('Allowed')] }),
                ],
              }),
              new TableRow({
                children: [
                  new TableCell({ children: [new Paragraph('Second')] }),
                  new TableCell({ children: [new Paragraph('Always')] }),
                ],
              }),
            ],
          }),
          new Paragraph({ text: 'Expenses', heading: HeadingLevel.HEADING_1 }),
          new Paragraph('Submit receipts within 30 days.'),
        ],
      },
    ],
  });
  return Packer.toBuffer(doc);
}

export async function makePptx(): Promise<Buffer> {
  const pptx = new PptxGenJS();
  pptx.defineSlideMaster({
    title: 'TITLED',
    objects: [
      { placeholder: { options: { name: 'title', type: 'title', x: 0.5, y: 0.2, w: 9, h: 1 }, text: '' } },
    ],
  });
  const one = pptx.addSlide({ masterName: 'TITLED' });
  one.addText('Quarterly results', { placeholder: 'title' });
  one.addText('Revenue grew 12 percent in the third quarter.', { x: 0.5, y: 1.5, w: 9, h: 1 });
  one.addNotes('Mention the new Berlin office.');
  const two = pptx.addSlide({ masterName: 'TITLED' });
  two.addText('Next steps', { placeholder: 'title' });
  two.addText('Hire two engineers.\nOpen the Madrid office.', { x: 0.5, y: 1.5, w: 9, h: 2 });
  const out = await pptx.write({ outputType: 'nodebuffer' });
  return out as Buffer;
}

export async function makeXlsx(): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  const people = wb.addWorksheet('People');
  people.addRow(['Name', 'City', 'Age']);
  people.addRow(['Alice', 'Paris', 31]);
  people.addRow(['Bob', 'Lyon', 45]);
  const stock = wb.addWorksheet('Stock');
  stock.addRow(['Item', 'Count']);
  stock.addRow(['Widgets', 7]);
  stock.addRow(['Gadgets', true]);
  return Buffer.from(await wb.xlsx.writeBuffer());
}

/** A ZIP that unpacks to `megabytes` MB of zeros from a few KB: ratio ~1000:1. */
export function makeZipBomb(name: string, megabytes: number): Uint8Array {
  return zipSync(
    {
      '[Content_Types].xml': new TextEncoder().encode('<Types/>'),
      [name]: new Uint8Array(megabytes * 1024 * 1024),
    },
    { level: 9 },
  );
}

/** A ZIP with `count` tiny entries. */
export function makeManyEntryZip(count: number): Uint8Array {
  const files: Record<string, Uint8Array> = {};
  for (let i = 0; i < count; i++) files[`word/f${i}.xml`] = new Uint8Array([60, 97, 47, 62]);
  return zipSync(files);
}

/** Deterministic pseudo-prose: `words` words in sentences and paragraphs. */
export function prose(words: number, seed = 1): string {
  const vocab = (
    'the system stores every document in object storage and indexes its passages so that ' +
    'people can search them later with questions in plain language while access rules decide ' +
    'which team member may read which file retrieval quality depends on clean chunk boundaries'
  ).split(' ');
  let s = seed >>> 0 || 1;
  const next = (): number => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s >>> 8;
  };
  const out: string[] = [];
  let sentence = 0;
  for (let i = 0; i < words; i++) {
    let w = vocab[next() % vocab.length]!;
    if (sentence === 0) w = w[0]!.toUpperCase() + w.slice(1);
    out.push(w);
    sentence++;
    if (sentence > 8 + (next() % 10)) {
      out[out.length - 1] += '.';
      sentence = 0;
      if (next() % 5 === 0) out[out.length - 1] += '\n\n';
    }
  }
  return out.join(' ').replace(/\n\n /g, '\n\n') + '.';
}
