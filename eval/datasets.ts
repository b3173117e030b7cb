/**
 * The evaluation datasets of `../shared/datasets` (README there: sources and licences), read into
 * one shape: documents to drop into the drop folder, queries with the documents (and, for
 * COVID-QA, the answer texts) that count as relevant.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { unzipSync, strFromU8 } from 'fflate';

export interface EvalDocument {
  /** The dataset's id; also the file name stem, so results map back to it. */
  id: string;
  /** File name in the drop folder (the extension picks the parser). */
  filename: string;
  content: string;
}

export interface EvalQuery {
  id: string;
  text: string;
  /** Relevant document ids (grade 1 each, as in BEIR SciFact). */
  relevant: string[];
  /** COVID-QA: answer texts; a passage containing one counts as answering. */
  answers?: string[];
}

export interface Dataset {
  name: string;
  documents: EvalDocument[];
  queries: EvalQuery[];
}

export interface SubsetOptions {
  /** At most this many queries (first ones by id order). */
  queries?: number;
  /** At most this many documents: every document a kept query needs, then distractors in corpus order. */
  documents?: number;
}

/** `['First sentence.' "It's the second."]` (Python list repr without commas) → sentences. */
export function pythonStringList(value: string): string[] {
  const out: string[] = [];
  const re = /'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)"/gs;
  for (const m of value.matchAll(re)) {
    const raw = m[1] ?? m[2] ?? '';
    out.push(raw.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c)));
  }
  return out;
}

/**
 * BEIR SciFact over 5,183 abstracts: the test split is the 300 claims of claims_validation.csv;
 * `train` (claims_train.csv, ~800 claims) is for tuning, so test figures are not tuned on.
 */
export async function loadSciFact(
  dir: string,
  subset: SubsetOptions = {},
  split: 'test' | 'train' = 'test',
): Promise<Dataset> {
  const claims = split === 'train' ? 'claims_train.csv' : 'claims_validation.csv';
  const files = unzipSync(new Uint8Array(await readFile(join(dir, 'scifact.zip'))), {
    filter: (f) => f.name === 'corpus_train.csv' || f.name === claims,
  });
  const rows = (name: string) =>
    parse(strFromU8(files[name]!), { columns: true, skip_empty_lines: true }) as Record<string, string>[];
  const corpus = rows('corpus_train.csv').map((r) => ({
    id: r.doc_id!,
    // A markdown file: the title is the document's heading, the abstract its paragraphs.
    filename: `${r.doc_id}.md`,
    content: `# ${r.title!.trim()}\n\n${pythonStringList(r.abstract!).join(' ')}\n`,
  }));
  const byClaim = new Map<string, EvalQuery>();
  for (const r of rows(claims)) {
    const cited = pythonStringList(r.cited_doc_ids!.replace(/(\d+)/g, "'$1'"));
    const q = byClaim.get(r.id!) ?? { id: r.id!, text: r.claim!, relevant: [] };
    for (const c of cited) if (!q.relevant.includes(c)) q.relevant.push(c);
    byClaim.set(r.id!, q);
  }
  const queries = [...byClaim.values()]
    .filter((q) => q.relevant.length > 0)
    .sort((a, b) => Number(a.id) - Number(b.id));
  const name = split === 'train' ? 'scifact-train' : 'scifact';
  return subsetOf({ name, documents: corpus, queries }, subset);
}

/** COVID-QA: 98 full-text papers, 1,380 extractive questions. */
export async function loadCovidQa(dir: string, subset: SubsetOptions = {}): Promise<Dataset> {
  const json = JSON.parse(await readFile(join(dir, 'covid-qa-200423.json'), 'utf8')) as {
    data: {
      paragraphs: {
        context: string;
        document_id: number | string;
        qas: { id: number | string; question: string; answers: { text: string }[] }[];
      }[];
    }[];
  };
  const documents: EvalDocument[] = [];
  const queries: EvalQuery[] = [];
  for (const article of json.data) {
    for (const p of article.paragraphs) {
      const id = String(p.document_id);
      documents.push({ id, filename: `${id}.txt`, content: p.context });
      for (const qa of p.qas) {
        queries.push({
          id: String(qa.id),
          text: qa.question,
          relevant: [id],
          answers: qa.answers.map((a) => a.text.trim()).filter(Boolean),
        });
      }
    }
  }
  return subsetOf({ name: 'covid-qa', documents, queries }, subset);
}

/** Deterministic subset: the first queries, their documents, then distractors in corpus order. */
export function subsetOf(data: Dataset, subset: SubsetOptions): Dataset {
  let queries = subset.queries ? data.queries.slice(0, subset.queries) : data.queries;
  const limit = subset.documents ?? data.documents.length;
  const needed = new Set(queries.flatMap((q) => q.relevant));
  const keep = new Set<string>();
  for (const d of data.documents) if (needed.has(d.id) && keep.size < limit) keep.add(d.id);
  for (const d of data.documents) {
    if (keep.size >= limit) break;
    keep.add(d.id);
  }
  // A query whose relevant documents were all cut (documents < what the queries need) is dropped.
  queries = queries.filter((q) => q.relevant.some((r) => keep.has(r)));
  return { name: data.name, documents: data.documents.filter((d) => keep.has(d.id)), queries };
}
