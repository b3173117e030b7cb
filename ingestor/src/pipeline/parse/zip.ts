/**
 * Zip-bomb guard for the OOXML formats (DOCX, PPTX, XLSX are ZIP containers).
 *
 * Before anything is inflated, the central directory is read (fflate's `unzipSync` with a filter
 * that declines every entry, which inflates nothing) and the entry count, the total declared
 * uncompressed size and the compression ratio are checked. Entries are then inflated by fflate
 * into buffers of their *declared* size, so an entry that lies about its size cannot grow past
 * what was checked: it comes out truncated and fails as corrupt XML instead of eating memory.
 */
import { unzipSync, zipSync, type Unzipped } from 'fflate';
import { ParseError } from '../types.js';
import type { ZipLimits } from './sink.js';

export interface ZipEntryInfo {
  name: string;
  compressedSize: number;
  size: number;
}

function corrupt(label: string, cause: unknown): ParseError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new ParseError('PARSE_CORRUPT', `${label} is corrupt: not a readable ZIP container (${reason})`, {
    cause,
  });
}

/** Reads and checks the directory; throws PARSE_ZIP_BOMB / PARSE_CORRUPT. */
export function inspectZip(data: Uint8Array, limits: ZipLimits, label: string): ZipEntryInfo[] {
  if (data.length < 22 || data[0] !== 0x50 || data[1] !== 0x4b) {
    throw new ParseError('PARSE_CORRUPT', `${label} is corrupt: it is not a ZIP container`);
  }
  const entries: ZipEntryInfo[] = [];
  let total = 0;
  const bomb = (why: string): ParseError =>
    new ParseError('PARSE_ZIP_BOMB', `${label} was refused: ${why} (possible zip bomb)`, {
      details: { ...limits },
    });
  try {
    unzipSync(data, {
      filter(file) {
        entries.push({ name: file.name, compressedSize: file.size, size: file.originalSize });
        if (entries.length > limits.maxEntries) {
          throw bomb(`more than ${limits.maxEntries} entries`);
        }
        total += file.originalSize;
        if (total > limits.maxUncompressedBytes) {
          throw bomb(`it unpacks to more than ${Math.round(limits.maxUncompressedBytes / 1048576)} MB`);
        }
        return false;
      },
    });
  } catch (err) {
    if (err instanceof ParseError) throw err;
    throw corrupt(label, err);
  }
  // Ratio over the whole file, with a floor so tiny files full of repeated XML are not refused.
  if (total > 8 * 1024 * 1024 && total / data.length > limits.maxRatio) {
    throw bomb(`it unpacks to ${Math.round(total / data.length)}× its size`);
  }
  return entries;
}

/** Inflates the entries `want` selects (after `inspectZip`), bounded by their declared sizes. */
export function extractZip(data: Uint8Array, want: (name: string) => boolean, label: string): Unzipped {
  try {
    return unzipSync(data, { filter: (f) => want(f.name) });
  } catch (err) {
    throw corrupt(label, err);
  }
}

/**
 * Re-packs the checked entries uncompressed, for libraries that unzip on their own (mammoth uses
 * JSZip): they then only ever see bytes whose sizes we have verified.
 */
export function repackZip(files: Unzipped): Uint8Array {
  return zipSync(files, { level: 0 });
}

const decoder = new TextDecoder('utf-8');
export function entryText(files: Unzipped, name: string): string | undefined {
  const bytes = files[name];
  return bytes ? decoder.decode(bytes) : undefined;
}
