import { fileTypeFromBuffer } from 'file-type';
import { AppError } from './errors.js';

/** The file types rattgllm indexes, by extension, with the MIME type it serves them as. */
export const SUPPORTED_TYPES = {
  pdf: 'application/pdf',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  pptx: 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  html: 'text/html; charset=utf-8',
  htm: 'text/html; charset=utf-8',
  md: 'text/markdown; charset=utf-8',
  markdown: 'text/markdown; charset=utf-8',
  txt: 'text/plain; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
  json: 'application/json; charset=utf-8',
} as const;
export type SupportedExtension = keyof typeof SUPPORTED_TYPES;

const BINARY = new Set<SupportedExtension>(['pdf', 'docx', 'pptx', 'xlsx']);
const OOXML = new Set<SupportedExtension>(['docx', 'pptx', 'xlsx']);

/** How many leading bytes `sniff` wants to see. */
export const SNIFF_BYTES = 64 * 1024;

export class UnsupportedTypeError extends AppError {
  constructor(message: string) {
    super(415, 'UNSUPPORTED_TYPE', `${message}. Supported types: ${supportedList()}`, {
      supported: Object.keys(SUPPORTED_TYPES),
    });
  }
}

export function supportedList(): string {
  return Object.keys(SUPPORTED_TYPES).join(', ');
}

export function extensionOf(filename: string): string {
  const dot = filename.lastIndexOf('.');
  return dot > 0 ? filename.slice(dot + 1).toLowerCase() : '';
}

export function isSupportedExtension(ext: string): ext is SupportedExtension {
  return Object.hasOwn(SUPPORTED_TYPES, ext);
}

const MAX_NAME_BYTES = 255;

/**
 * A file name from a client or a folder, made safe to store, log and send back in a header: no
 * path parts, no control or bidi-override characters, NFC, at most 255 UTF-8 bytes (extension kept).
 */
export function sanitizeFilename(raw: string): string {
  let name = raw.normalize('NFC').split(/[/\\]/).pop() ?? '';
  // eslint-disable-next-line no-control-regex
  name = name.replace(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, '');
  name = name.replace(/\s+/g, ' ').replace(/^[\s.]+|[\s.]+$/g, '');
  if (!name) return 'unnamed';
  return truncateFilename(name, MAX_NAME_BYTES);
}

/** Cut a file name to `maxBytes` of UTF-8, keeping its extension and whole characters. */
export function truncateFilename(name: string, maxBytes: number): string {
  if (Buffer.byteLength(name) <= maxBytes) return name;
  const ext = extensionOf(name);
  const suffix = ext && ext.length <= 16 ? `.${ext}` : '';
  let stem = name.slice(0, name.length - suffix.length);
  while (Buffer.byteLength(stem + suffix) > maxBytes) stem = [...stem].slice(0, -1).join('');
  return stem + suffix;
}

function isUtf8Text(head: Buffer, complete: boolean): boolean {
  if (head.includes(0)) return false;
  // A multi-byte character may be cut at the end of the sniffed window; drop up to 3 bytes.
  for (let cut = 0; cut <= (complete ? 0 : 3); cut++) {
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(head.subarray(0, head.length - cut));
      return true;
    } catch {
      /* try a shorter prefix */
    }
  }
  return false;
}

/**
 * Decide whether the content really is what its extension says. `head` is the first bytes of the
 * file (up to SNIFF_BYTES); `complete` says whether that is the whole file.
 * Returns the MIME type to store; throws UnsupportedTypeError otherwise.
 */
export async function sniffType(filename: string, head: Buffer, complete: boolean): Promise<string> {
  const ext = extensionOf(filename);
  if (!isSupportedExtension(ext))
    throw new UnsupportedTypeError(
      ext ? `Files of type .${ext} are not supported` : 'The file has no extension',
    );
  const detected = await fileTypeFromBuffer(head);
  if (BINARY.has(ext)) {
    const ok = detected?.ext === ext || (OOXML.has(ext) && detected?.ext === 'zip');
    if (!ok)
      throw new UnsupportedTypeError(
        `The file is named .${ext} but its content is ${detected ? `.${detected.ext}` : 'not a valid ' + ext.toUpperCase()}`,
      );
  } else {
    // Text formats: no binary signature, valid UTF-8, no NUL bytes.
    if ((detected && detected.mime !== 'application/xml') || !isUtf8Text(head, complete))
      throw new UnsupportedTypeError(`The file is named .${ext} but its content is not UTF-8 text`);
    if (ext === 'json' && !/^\s*[[{"\d\-tfn]/.test(head.subarray(0, 256).toString('utf8')))
      throw new UnsupportedTypeError('The file is named .json but its content is not JSON');
  }
  return SUPPORTED_TYPES[ext];
}
