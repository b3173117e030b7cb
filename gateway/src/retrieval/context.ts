/**
 * Turning retrieved passages into the prompt the model sees and the sources the client shows.
 * Pure functions: the chat route and the tests share them.
 */

export interface Passage {
  documentId: string;
  filename: string;
  chunkIndex: number;
  text: string;
  /** Fused (RRF) score. */
  score: number;
  /** Cosine similarity to the question, when known. */
  denseScore: number | null;
  page: number | null;
  /** Last page the passage covers, when it spans more than one. */
  pageEnd?: number | null;
  /** [offset in `text`, page] where each later page begins, for passages over several pages. */
  pageBreaks?: [number, number][] | null;
  heading: string | null;
  /** Grouped by document (/search): the document's other matching passages, best first. */
  also?: Passage[];
  /**
   * A passage widened to its window (window.ts): the hit's own chunk, which the chat context
   * falls back to when the window does not fit its budget. Not part of any response.
   */
  narrow?: Pick<Passage, 'text' | 'page' | 'pageEnd' | 'pageBreaks'>;
}

export interface NumberedPassage extends Passage {
  n: number;
}

/** One cited document, in the shape Open WebUI renders as a source chip. */
export interface OpenWebUISource {
  /** `url` only when the link will open for the reader (see `toSources`). */
  source: { id: string; name: string; url?: string };
  document: string[];
  metadata: { source: string; name: string; page: number | null; chunk: number; heading: string | null }[];
  distances: number[];
}

/**
 * A conservative token estimate (about 3 characters per token; English averages ~4), so the
 * passages stay within `maxContextTokens` for any tokenizer the chat model uses.
 */
export function estimateTokens(text: string): number {
  return tokensOfLength(text.length);
}

/** estimateTokens of a text of this many characters. */
export const tokensOfLength = (chars: number): number => Math.ceil(chars / 3);

function label(p: Passage): string {
  const parts = [p.filename];
  if (p.page != null) parts.push(`page ${p.page}`);
  if (p.heading) parts.push(`section "${p.heading}"`);
  return parts.join(', ');
}

export function formatPassage(p: NumberedPassage): string {
  return `[${p.n}] ${label(p)}\n${p.text}`;
}

/**
 * Picks passages in rank order within the token budget (a passage that does not fit is skipped,
 * a smaller later one may still fit; a first passage larger than the whole budget is cut), then
 * numbers them grouped by document, so `[n]` follows the order of the sources list a client shows.
 */
export function selectPassages(ranked: Passage[], maxTokens: number): NumberedPassage[] {
  const chosen: Passage[] = [];
  let used = 0;
  // estimateTokens(formatPassage(p)) from lengths: `[n] label\ntext`, without building the string.
  const digits = String(ranked.length).length;
  const cost = (p: Passage) => tokensOfLength(digits + 4 + label(p).length + p.text.length) + 1;
  for (const wide of ranked) {
    // A window that does not fit may still fit as the chunk it grew from.
    const p = used + cost(wide) > maxTokens && wide.narrow ? { ...wide, ...wide.narrow } : wide;
    if (used + cost(p) <= maxTokens) {
      chosen.push(p);
      used += cost(p);
    } else if (chosen.length === 0) {
      const room = Math.max(0, (maxTokens - estimateTokens(label(p)) - 4) * 3);
      if (room > 0) {
        chosen.push({ ...p, text: p.text.slice(0, room) });
        used = maxTokens;
      }
    }
  }
  const order: string[] = [];
  const byDoc = new Map<string, Passage[]>();
  for (const p of chosen) {
    if (!byDoc.has(p.documentId)) {
      byDoc.set(p.documentId, []);
      order.push(p.documentId);
    }
    byDoc.get(p.documentId)!.push(p);
  }
  let n = 0;
  return order.flatMap((id) => byDoc.get(id)!.map((p) => ({ ...p, n: ++n })));
}

export const NO_PASSAGES = "(No passages from the team's documents matched this question.)";

export function contextText(passages: NumberedPassage[]): string {
  return passages.length ? passages.map(formatPassage).join('\n\n') : NO_PASSAGES;
}

/** `{{context}}` replaced once, without `$` patterns in the passages being interpreted. */
export function renderSystemPrompt(template: string, context: string): string {
  return template.replace('{{context}}', () => context);
}

/** How a citation points at its document: base URL of the API and an optional link token. */
export interface LinkOptions {
  baseUrl?: string | undefined;
  token?: ((documentId: string) => string) | undefined;
}

export function documentUrl(documentId: string, page: number | null, link: LinkOptions = {}): string {
  const token = link.token?.(documentId);
  return (
    `${link.baseUrl ?? ''}/documents/${documentId}/content` +
    (token ? `?token=${encodeURIComponent(token)}` : '') +
    (page != null ? `#page=${page}` : '')
  );
}

/**
 * One source per cited document, passages in prompt order. A link is only given when it will open
 * for the reader: with a token made for them (`link.token`). Without one (an Open WebUI user
 * rattgllm does not know), the chip names the document but links nowhere, instead of to a 401.
 */
export function toSources(passages: NumberedPassage[], link: LinkOptions = {}): OpenWebUISource[] {
  const out = new Map<string, OpenWebUISource>();
  for (const p of passages) {
    let s = out.get(p.documentId);
    if (!s) {
      s = {
        source: {
          id: p.documentId,
          name: p.filename,
          ...(link.token ? { url: documentUrl(p.documentId, p.page, link) } : {}),
        },
        document: [],
        metadata: [],
        distances: [],
      };
      out.set(p.documentId, s);
    }
    s.document.push(p.text);
    s.metadata.push({
      source: p.documentId,
      name: p.filename,
      page: p.page,
      chunk: p.chunkIndex,
      heading: p.heading,
    });
    s.distances.push(p.denseScore ?? p.score);
  }
  return [...out.values()];
}

type ContentPart = { type?: unknown; text?: unknown };

/** The text of a message's content: a string, or the text parts of a multi-part content. */
export function messageText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content))
    return content
      .filter((p: ContentPart) => p?.type === 'text' && typeof p.text === 'string')
      .map((p: ContentPart) => p.text as string)
      .join('\n');
  return '';
}

/** The retrieval query: the last user message's text. */
export function lastUserText(messages: readonly { role?: unknown; content?: unknown }[]): string {
  for (let i = messages.length - 1; i >= 0; i--) {
    if (messages[i]?.role === 'user') return messageText(messages[i]!.content).trim();
  }
  return '';
}
