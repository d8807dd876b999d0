/**
 * Project Calico's label selector language (NetworkPolicy/GlobalNetworkPolicy `selector`,
 * `namespaceSelector`, rule `selector`/`notSelector`), written from the grammar of upstream's
 * libcalico-go/lib/selector (tokenizer, parser, ast) so a migration judges Calico policies the
 * way Felix would:
 *
 *   expr    := and ('||' and)*            — '&&' binds tighter than '||'
 *   and     := op ('&&' op)*
 *   op      := '!'* ( 'all()' | 'global()' | 'has(' label ')' | '(' expr ')'
 *                   | label ('==' | '!=' | 'contains' | 'starts with' | 'ends with') string
 *                   | label ('in' | 'not in') '{' [string (',' string)* [',']] '}' )
 *   label   := [A-Za-z0-9_./-]{1,512}
 *   string  := "…" | '…'                  — no escapes: a string ends at its next own quote
 *
 * Upstream semantics kept on purpose, because they differ from Kubernetes intuition:
 * - `k != "v"` and `k not in {…}` match when `k` is absent; `==`, `in`, `contains`,
 *   `starts with`, `ends with` never match an absent key.
 * - `global()` evaluates true, like `all()`. Its meaning lives in the caller: in a
 *   `namespaceSelector` Calico rewrites `global()` to `!has(projectcalico.org/namespace)` (only
 *   host endpoints and global network sets) and `all()` to `has(projectcalico.org/namespace)`,
 *   so a workload endpoint, which always carries that label, is never selected by `global()` there.
 * - Only space and tab separate tokens; a newline is an unexpected character, as upstream.
 * - Operator words need no space before a quote (`a in{"x"}`, `a contains"x"`), and
 *   `startswith`, `endswith`, `notin` are accepted spellings.
 */

export type Labels = Readonly<Record<string, string>>;

/** A parsed selector: evaluate against a label set. */
export interface CalicoSelector {
  readonly text: string;
  matches(labels: Labels): boolean;
}

type Kind =
  | 'label'
  | 'string'
  | 'has'
  | 'all'
  | 'global'
  | '('
  | ')'
  | '{'
  | '}'
  | ','
  | '=='
  | '!='
  | '!'
  | '&&'
  | '||'
  | 'in'
  | 'not in'
  | 'contains'
  | 'starts with'
  | 'ends with'
  | 'eof';

interface Token {
  readonly kind: Kind;
  /** Label name for `label`/`has`, literal contents for `string`. */
  readonly value: string;
  /** 0-based offset into the selector text. */
  readonly pos: number;
}

type Predicate = (labels: Labels) => boolean;

const MAX_LABEL_LENGTH = 512;

const isSpace = (c: number): boolean => c === 0x20 || c === 0x09;

function isLabelChar(c: number): boolean {
  return (
    (c >= 0x61 && c <= 0x7a) || // a-z
    (c >= 0x41 && c <= 0x5a) || // A-Z
    (c >= 0x30 && c <= 0x39) || // 0-9
    c === 0x5f || // _
    c === 0x2e || // .
    c === 0x2f || // /
    c === 0x2d // -
  );
}

function skipSpace(text: string, i: number): number {
  while (i < text.length && isSpace(text.charCodeAt(i))) i++;
  return i;
}

function labelEnd(text: string, i: number): number {
  while (i < text.length && isLabelChar(text.charCodeAt(i))) i++;
  return i;
}

function invalid(text: string, detail: string): Error {
  return new Error(`Invalid Calico selector ${JSON.stringify(text)}: ${detail}`);
}

function describe(t: Token): string {
  const what =
    t.kind === 'eof'
      ? 'end of input'
      : t.kind === 'label'
        ? `label '${t.value}'`
        : t.kind === 'string'
          ? `string ${JSON.stringify(t.value)}`
          : t.kind === 'has'
            ? `'has(${t.value})'`
            : t.kind === 'all' || t.kind === 'global'
              ? `'${t.kind}()'`
              : `'${t.kind}'`;
  return `${what} at position ${t.pos}`;
}

// Operators only count as such straight after a label, which is how upstream lets a label be
// called `contains` or `in`. Multi-word operators may have any run of spaces (even none) between
// their words.
const OPERATOR_WORDS: readonly (readonly [Kind, readonly string[]])[] = [
  ['contains', ['contains']],
  ['starts with', ['starts', 'with']],
  ['ends with', ['ends', 'with']],
  ['not in', ['not', 'in']],
  ['in', ['in']],
];

/** End offset of `words` at `i`, or undefined when they are absent or run into more label characters. */
function operatorEnd(text: string, i: number, words: readonly string[]): number | undefined {
  let j = i;
  for (const [n, word] of words.entries()) {
    if (n > 0) j = skipSpace(text, j);
    if (!text.startsWith(word, j)) return undefined;
    j += word.length;
  }
  return j < text.length && isLabelChar(text.charCodeAt(j)) ? undefined : j;
}

const CALLS: readonly (readonly ['has' | 'all' | 'global', string])[] = [
  ['has', 'has('],
  ['all', 'all('],
  ['global', 'global('],
];

const PUNCTUATION: Readonly<Record<string, Kind>> = { '(': '(', ')': ')', '{': '{', '}': '}', ',': ',' };
const DOUBLED: Readonly<Record<string, Kind>> = { '=': '==', '&': '&&', '|': '||' };

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  for (;;) {
    i = skipSpace(text, i);
    const pos = i;
    if (i >= text.length) {
      tokens.push({ kind: 'eof', value: '', pos });
      return tokens;
    }
    const c = text.charAt(i);
    const punct = PUNCTUATION[c];
    if (punct) {
      tokens.push({ kind: punct, value: '', pos });
      i++;
      continue;
    }
    if (c === '"' || c === "'") {
      const end = text.indexOf(c, i + 1);
      if (end < 0) throw invalid(text, `unterminated string starting at position ${pos}`);
      tokens.push({ kind: 'string', value: text.slice(i + 1, end), pos });
      i = end + 1;
      continue;
    }
    const doubled = DOUBLED[c];
    if (doubled) {
      if (text.charAt(i + 1) !== c) throw invalid(text, `expected '${doubled}' but found '${c}' at position ${pos}`);
      tokens.push({ kind: doubled, value: '', pos });
      i += 2;
      continue;
    }
    if (c === '!') {
      const ne = text.charAt(i + 1) === '=';
      tokens.push({ kind: ne ? '!=' : '!', value: '', pos });
      i += ne ? 2 : 1;
      continue;
    }

    const previous = tokens.at(-1);
    if (previous?.kind === 'label') {
      let end: number | undefined;
      for (const [kind, words] of OPERATOR_WORDS) {
        end = operatorEnd(text, i, words);
        if (end === undefined) continue;
        tokens.push({ kind, value: '', pos });
        break;
      }
      if (end === undefined) {
        const word = text.slice(i, Math.max(labelEnd(text, i), i + 1));
        throw invalid(text, `expected an operator after label '${previous.value}' but found ${JSON.stringify(word)} at position ${pos}`);
      }
      i = end;
      continue;
    }

    const call = CALLS.find(([, opener]) => text.startsWith(opener, i));
    if (call) {
      const [kind, opener] = call;
      i = skipSpace(text, i + opener.length);
      let value = '';
      if (kind === 'has') {
        const end = labelEnd(text, i);
        if (end === i) throw invalid(text, `expected a label name inside 'has(' at position ${i}`);
        if (end - i > MAX_LABEL_LENGTH) throw invalid(text, `label longer than ${MAX_LABEL_LENGTH} characters at position ${i}`);
        value = text.slice(i, end);
        i = skipSpace(text, end);
      }
      if (text.charAt(i) !== ')') throw invalid(text, `expected ')' to close '${opener}' at position ${i}`);
      tokens.push({ kind, value, pos });
      i++;
      continue;
    }

    const end = labelEnd(text, i);
    if (end === i) throw invalid(text, `unexpected character ${JSON.stringify(c)} at position ${pos}`);
    if (end - i > MAX_LABEL_LENGTH) throw invalid(text, `label longer than ${MAX_LABEL_LENGTH} characters at position ${pos}`);
    tokens.push({ kind: 'label', value: text.slice(i, end), pos });
    i = end;
  }
}

// Own-property lookup: a label set is a plain object, and `constructor` or `toString` are
// legitimate label keys that must not resolve through the prototype.
const valueOf = (labels: Labels, key: string): string | undefined => (Object.hasOwn(labels, key) ? labels[key] : undefined);

const matchAll: Predicate = () => true;

function parse(text: string): Predicate {
  const tokens = tokenize(text);
  const eof = tokens[tokens.length - 1] ?? { kind: 'eof', value: '', pos: text.length };
  let at = 0;
  const peek = (): Token => tokens[at] ?? eof;
  const next = (): Token => {
    const t = peek();
    if (t.kind !== 'eof') at++;
    return t;
  };

  // One or more `operand`s joined by `op`: any of them (||) or all of them (&&).
  const chain = (op: '||' | '&&', operand: () => Predicate): Predicate => {
    const terms = [operand()];
    while (peek().kind === op) {
      at++;
      terms.push(operand());
    }
    if (terms.length === 1) return terms[0]!;
    return op === '||' ? (labels) => terms.some((t) => t(labels)) : (labels) => terms.every((t) => t(labels));
  };
  const andExpr = (): Predicate => chain('&&', operation);
  const orExpr = (): Predicate => chain('||', andExpr);

  const operation = (): Predicate => {
    let negated = false;
    while (peek().kind === '!') {
      negated = !negated;
      at++;
    }
    const positive = term();
    return negated ? (labels) => !positive(labels) : positive;
  };

  const term = (): Predicate => {
    const t = next();
    switch (t.kind) {
      case 'all':
      case 'global':
        return matchAll;
      case 'has': {
        const key = t.value;
        return (labels) => Object.hasOwn(labels, key);
      }
      case '(': {
        const inner = orExpr();
        const close = next();
        if (close.kind !== ')') throw invalid(text, `expected ')' to close '(' at position ${t.pos} but found ${describe(close)}`);
        return inner;
      }
      case 'label':
        return comparison(t.value);
      default:
        throw invalid(text, `expected a label, 'has(', 'all()', 'global()', '!' or '(' but found ${describe(t)}`);
    }
  };

  const literal = (op: Token): string => {
    const t = next();
    if (t.kind !== 'string') throw invalid(text, `expected a quoted string after '${op.kind}' but found ${describe(t)}`);
    return t.value;
  };

  const valueSet = (op: Token): ReadonlySet<string> => {
    const open = next();
    if (open.kind !== '{') throw invalid(text, `expected '{' after '${op.kind}' but found ${describe(open)}`);
    const values = new Set<string>();
    let afterItem = false;
    // Upstream accepts a trailing comma and an empty set, so both are valid here too.
    while (peek().kind === 'string') {
      values.add(next().value);
      afterItem = peek().kind !== ',';
      if (afterItem) break;
      at++;
    }
    const close = next();
    if (close.kind !== '}') {
      const wanted = afterItem ? `',' or '}'` : `a quoted string or '}'`;
      throw invalid(text, `expected ${wanted} in the set opened at position ${open.pos} but found ${describe(close)}`);
    }
    return values;
  };

  const comparison = (key: string): Predicate => {
    const op = next();
    switch (op.kind) {
      case '==': {
        const want = literal(op);
        return (labels) => valueOf(labels, key) === want;
      }
      case '!=': {
        const unwanted = literal(op);
        return (labels) => valueOf(labels, key) !== unwanted;
      }
      case 'contains': {
        const part = literal(op);
        return (labels) => valueOf(labels, key)?.includes(part) ?? false;
      }
      case 'starts with': {
        const prefix = literal(op);
        return (labels) => valueOf(labels, key)?.startsWith(prefix) ?? false;
      }
      case 'ends with': {
        const suffix = literal(op);
        return (labels) => valueOf(labels, key)?.endsWith(suffix) ?? false;
      }
      case 'in': {
        const values = valueSet(op);
        return (labels) => {
          const v = valueOf(labels, key);
          return v !== undefined && values.has(v);
        };
      }
      case 'not in': {
        const values = valueSet(op);
        return (labels) => {
          const v = valueOf(labels, key);
          return v === undefined || !values.has(v);
        };
      }
      default:
        throw invalid(text, `expected an operator after label '${key}' but found ${describe(op)}`);
    }
  };

  if (peek().kind === 'eof') return matchAll;
  const root = orExpr();
  const rest = peek();
  if (rest.kind !== 'eof') throw invalid(text, `expected '&&', '||' or end of input but found ${describe(rest)}`);
  return root;
}

/**
 * Parses a selector. Throws an Error naming the selector text, the offending token and its
 * 0-based position when the text is not a valid Calico selector. Empty or blank (spaces, tabs)
 * text selects everything, as `all()`.
 */
export function parseCalicoSelector(text: string): CalicoSelector {
  const predicate = parse(text);
  return { text, matches: (labels) => predicate(labels) };
}

// Bounded so a long-running process fed ever-new selector texts cannot grow without limit;
// a real cluster has far fewer distinct selectors than this.
const CACHE_LIMIT = 4096;
const cache = new Map<string, CalicoSelector>();

/** Cached parse (Map by text) for hot paths. Invalid text throws every time and is never cached. */
export function calicoSelector(text: string): CalicoSelector {
  const hit = cache.get(text);
  if (hit) return hit;
  const parsed = parseCalicoSelector(text);
  if (cache.size >= CACHE_LIMIT) {
    const oldest = cache.keys().next();
    if (!oldest.done) cache.delete(oldest.value);
  }
  cache.set(text, parsed);
  return parsed;
}

function calicoKey(key: string, keyPrefix: string): string {
  const full = keyPrefix + key;
  if (key === '' || full.length > MAX_LABEL_LENGTH || labelEnd(full, 0) !== full.length) {
    throw new Error(
      `Label key ${JSON.stringify(full)} cannot appear in a Calico selector: keys are 1-${MAX_LABEL_LENGTH} characters of [A-Za-z0-9_./-]`,
    );
  }
  return full;
}

// Calico strings have no escapes, so the quote is chosen to differ from the value's contents;
// a value holding both quote characters (never a valid Kubernetes label value) cannot be written.
function calicoString(value: string): string {
  if (!value.includes('"')) return `"${value}"`;
  if (!value.includes("'")) return `'${value}'`;
  throw new Error(`Label value ${JSON.stringify(value)} cannot appear in a Calico selector: it contains both quote characters`);
}

/**
 * A Kubernetes LabelSelector ({matchLabels, matchExpressions with In/NotIn/Exists/DoesNotExist})
 * as a Calico selector string, each key optionally prefixed (Calico namespace labels on workload
 * endpoints appear as `pcns.<key>`). `{}` gives `all()`. Values and keys are quoted so the result
 * always parses; a key or value no Calico selector can express, or an unknown operator, throws.
 */
export function labelSelectorToCalico(
  sel: { matchLabels?: Record<string, string>; matchExpressions?: { key: string; operator: string; values?: string[] }[] },
  keyPrefix = '',
): string {
  const terms: string[] = [];
  for (const [key, value] of Object.entries(sel.matchLabels ?? {})) terms.push(`${calicoKey(key, keyPrefix)} == ${calicoString(value)}`);
  for (const { key, operator, values } of sel.matchExpressions ?? []) {
    const k = calicoKey(key, keyPrefix);
    const set = `{${(values ?? []).map(calicoString).join(', ')}}`;
    switch (operator) {
      case 'In':
        terms.push(`${k} in ${set}`);
        break;
      // Calico's `not in` already matches an absent key, exactly as Kubernetes' NotIn does.
      case 'NotIn':
        terms.push(`${k} not in ${set}`);
        break;
      case 'Exists':
        terms.push(`has(${k})`);
        break;
      case 'DoesNotExist':
        terms.push(`!has(${k})`);
        break;
      default:
        throw new Error(`LabelSelector operator ${JSON.stringify(operator)} on key ${JSON.stringify(key)} is not one of In, NotIn, Exists, DoesNotExist`);
    }
  }
  return terms.length === 0 ? 'all()' : terms.join(' && ');
}
