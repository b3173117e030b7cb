/**
 * Sentence boundaries for the chunk stage, as `Intl.Segmenter('en', { granularity: 'sentence' })`
 * finds them. ICU's segmenter costs microseconds per call (a break iterator is cloned for every
 * text, and each `containing` re-runs its rules), which at every chunk boundary was a sixth of the
 * chunk stage. For ASCII text the rules of UAX #29 that ICU implements are short, so they run here
 * in one pass; any other text goes to ICU. chunk.test.ts compares both on generated text.
 */

const sentenceSegmenter = new Intl.Segmenter('en', { granularity: 'sentence' });

/** Sentence_Break classes of the ASCII characters (UAX #29, SentenceBreakProperty.txt). */
const OTHER = 0;
const CR = 1;
const LF = 2;
const SP = 3;
const LOWER = 4;
const UPPER = 5;
const NUMERIC = 6;
const ATERM = 7;
const STERM = 8;
const CLOSE = 9;
const SCONTINUE = 10;

const CLASS = new Uint8Array(128).map((_, c) => {
  if (c === 13) return CR;
  if (c === 10) return LF;
  if (c === 9 || c === 11 || c === 12 || c === 32) return SP;
  if (c >= 97 && c <= 122) return LOWER;
  if (c >= 65 && c <= 90) return UPPER;
  if (c >= 48 && c <= 57) return NUMERIC;
  if (c === 46) return ATERM; // .
  if (c === 33 || c === 63) return STERM; // ! ?
  if (c === 34 || c === 39 || c === 40 || c === 41 || c === 91 || c === 93 || c === 123 || c === 125) {
    return CLOSE; // " ' ( ) [ ] { }
  }
  if (c === 44 || c === 45 || c === 58 || c === 59) return SCONTINUE; // , - : ;
  return OTHER;
});

const NON_ASCII = /[\u0080-\uffff]/;
/** ATerm, STerm, CR and LF. */
const TERMINATOR_OR_SEPARATOR = /[.!?\r\n]/g;

/**
 * End offsets of the sentences of `text` (the last is `text.length`), or undefined when the text
 * is not all ASCII. The rules, for a terminator (SATerm = ATerm or STerm) at `i`:
 *  - SB6/SB7: after ATerm, no break before a digit, nor before a capital when a letter precedes it;
 *  - SB9/SB10: the run of Close, then Sp, then one paragraph separator (CR LF as one) stays with it;
 *  - SB11: break after that run, unless SB8 (ATerm, and the next letter after non-letters is lower
 *    case) or SB8a (the next character is SContinue or SATerm) holds;
 *  - SB4: a break after every CR, LF (and CR LF).
 */
function asciiSentenceEnds(text: string): number[] | undefined {
  const n = text.length;
  if (n === 0) return [];
  if (NON_ASCII.test(text)) return undefined;
  const ends: number[] = [];
  let i = 0;
  while (i < n) {
    // Only terminators and separators decide anything: the native search skips the rest.
    TERMINATOR_OR_SEPARATOR.lastIndex = i;
    const found = TERMINATOR_OR_SEPARATOR.exec(text);
    if (found === null) break;
    i = found.index;
    const c = classAt(text, i);
    if (c === CR || c === LF) {
      i += c === CR && classAt(text, i + 1) === LF ? 2 : 1;
      ends.push(i);
      continue;
    }
    const j = i + 1;
    if (
      c === ATERM &&
      (classAt(text, j) === NUMERIC || (classAt(text, j) === UPPER && isLetter(classAt(text, i - 1))))
    ) {
      i = j;
      continue;
    }
    let k = j;
    while (classAt(text, k) === CLOSE) k++;
    while (classAt(text, k) === SP) k++;
    const next = classAt(text, k);
    if (next === CR || next === LF) {
      k += next === CR && classAt(text, k + 1) === LF ? 2 : 1;
    } else if (
      k < n &&
      (next === SCONTINUE || next === ATERM || next === STERM || (c === ATERM && lowerFollows(text, k)))
    ) {
      i = k;
      continue;
    }
    ends.push(k);
    i = k;
  }
  if (ends.length === 0 || ends.at(-1) !== n) ends.push(n);
  return ends;
}

function isLetter(c: number): boolean {
  return c === LOWER || c === UPPER;
}

/** The class of `text[k]`, -1 past either end. */
function classAt(text: string, k: number): number {
  return k >= 0 && k < text.length ? CLASS[text.charCodeAt(k)]! : -1;
}

/** SB8: skipping anything but letters, separators and terminators, the next character is lower case. */
function lowerFollows(text: string, k: number): boolean {
  for (;;) {
    const c = classAt(text, k);
    if (c === LOWER) return true;
    if (c === -1 || c === UPPER || c === CR || c === LF || c === ATERM || c === STERM) return false;
    k++;
  }
}

/** The text's sentences, trimmed, empty ones left out. */
export function sentences(text: string): string[] {
  const out: string[] = [];
  const ends = asciiSentenceEnds(text);
  if (ends) {
    let start = 0;
    for (const end of ends) {
      const t = text.slice(start, end).trim();
      if (t.length > 0) out.push(t);
      start = end;
    }
    return out;
  }
  for (const s of sentenceSegmenter.segment(text)) {
    const t = s.segment.trim();
    if (t.length > 0) out.push(t);
  }
  return out;
}

/**
 * The text's sentences (untrimmed) from the last to the first, read one at a time with
 * `previous()`. ICU's `containing` walks back only as far as needed; the ASCII rules run forward
 * over the whole text once, which costs less than one ICU call.
 */
export class SentencesFromEnd {
  private readonly ends: number[] | undefined;
  private readonly segments: Intl.Segments | undefined;
  private at: number;

  constructor(private readonly text: string) {
    this.ends = asciiSentenceEnds(text);
    this.segments = this.ends ? undefined : sentenceSegmenter.segment(text);
    this.at = this.ends ? this.ends.length - 1 : text.length - 1;
  }

  /** The sentence before the last one returned, or undefined at the start of the text. */
  previous(): string | undefined {
    if (this.at < 0) return undefined;
    if (this.ends) {
      const k = this.at--;
      return this.text.slice(k > 0 ? this.ends[k - 1]! : 0, this.ends[k]!);
    }
    const segment = this.segments!.containing(this.at)!;
    this.at = segment.index - 1;
    return segment.segment;
  }
}

/** ICU's sentences, untrimmed, for tests of the ASCII rules. */
export function icuSentences(text: string): string[] {
  return Array.from(sentenceSegmenter.segment(text), (s) => s.segment);
}

/** The ASCII rules' sentences, untrimmed (undefined for other text), for tests. */
export function asciiSentences(text: string): string[] | undefined {
  const ends = asciiSentenceEnds(text);
  return ends?.map((end, k) => text.slice(k > 0 ? ends[k - 1]! : 0, end));
}
