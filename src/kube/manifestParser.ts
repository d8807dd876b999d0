import { parseAllDocuments } from 'yaml';

/** One document of a multi-document manifest, with where it came from. */
export interface ManifestDocument {
  /** 0-based index of the document in the file. */
  index: number;
  /** 1-based line where the document starts. */
  line: number;
  value: Record<string, unknown>;
}

/** A manifest that cannot be read: names the file, the document and the line. */
export class ManifestError extends Error {
  constructor(
    readonly file: string,
    readonly documentIndex: number | undefined,
    readonly detail: string,
    readonly line?: number,
  ) {
    super(`${file}${documentIndex !== undefined ? `: document ${documentIndex + 1}` : ''}${line ? ` (line ${line})` : ''}: ${detail}`);
    this.name = 'ManifestError';
  }
}

/**
 * Parses multi-document YAML the way kubectl does (YAML 1.1: 0644 is octal, yes/no are booleans),
 * keeping timestamps as strings. Empty documents are skipped; a v1 List is expanded into its items.
 */
export function parseManifestDocuments(text: string, file: string): ManifestDocument[] {
  const docs = parseAllDocuments(text, {
    version: '1.1',
    uniqueKeys: true,
    prettyErrors: true,
    customTags: (tags) => tags.filter((t) => (t as { tag?: string }).tag !== 'tag:yaml.org,2002:timestamp'),
  });
  if (!Array.isArray(docs)) return [];
  const lineOf = (offset: number) => text.slice(0, offset).split('\n').length;
  const out: ManifestDocument[] = [];
  docs.forEach((doc, index) => {
    const line = lineOf(doc.range?.[0] ?? 0);
    if (doc.errors.length) {
      const e = doc.errors[0]!;
      throw new ManifestError(file, index, e.message.split('\n')[0] ?? e.message, e.linePos?.[0]?.line ?? line);
    }
    const value: unknown = doc.toJS({ maxAliasCount: 100 });
    if (value === null || value === undefined) return;
    if (typeof value !== 'object' || Array.isArray(value)) throw new ManifestError(file, index, 'expected a mapping (a Kubernetes object)', line);
    const obj = value as Record<string, unknown>;
    if (obj.kind === 'List' && Array.isArray(obj.items)) {
      for (const item of obj.items as Record<string, unknown>[]) out.push({ index, line, value: item });
    } else {
      out.push({ index, line, value: obj });
    }
  });
  return out;
}
