/** Small helpers over htmlparser2's SAX parser in XML mode, for the OOXML parts we read. */
import { Parser } from 'htmlparser2';

export interface XmlHandlers {
  open?(name: string, attrs: Record<string, string>): void;
  text?(text: string): void;
  close?(name: string): void;
}

export function walkXml(xml: string, handlers: XmlHandlers): void {
  const parser = new Parser(
    {
      onopentag: (name, attrs) => handlers.open?.(name, attrs),
      ontext: (text) => handlers.text?.(text),
      onclosetag: (name) => handlers.close?.(name),
    },
    { xmlMode: true, decodeEntities: true },
  );
  parser.write(xml);
  parser.end();
}

/** `Id → Target` of a .rels part, targets resolved against `baseDir` ("ppt/", "xl/"). */
export function readRels(xml: string | undefined, baseDir: string): Map<string, string> {
  const rels = new Map<string, string>();
  if (!xml) return rels;
  walkXml(xml, {
    open(name, attrs) {
      if (name === 'Relationship' && attrs.Id && attrs.Target) {
        rels.set(attrs.Id, resolvePart(baseDir, attrs.Target));
      }
    },
  });
  return rels;
}

function resolvePart(baseDir: string, target: string): string {
  if (target.startsWith('/')) return target.slice(1);
  const parts = (baseDir + target).split('/');
  const out: string[] = [];
  for (const p of parts) {
    if (p === '..') out.pop();
    else if (p !== '.' && p !== '') out.push(p);
  }
  return out.join('/');
}
