import { badRequest } from '../api/apiError.js';
import { memoizeFrozen } from './frozenMemo.js';

/** metav1.LabelSelector as JSON. */
export interface LabelSelectorObject {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

/** One parsed requirement of a label selector. */
export interface Requirement {
  key: string;
  operator: 'in' | 'notin' | 'exists' | '!' | '=' | '!=';
  values: string[];
}

/** True when labels satisfy every requirement. */
export function matchesRequirements(labels: Record<string, string> | undefined, reqs: Requirement[]): boolean {
  const l = labels ?? {};
  return reqs.every((r) => {
    const has = Object.prototype.hasOwnProperty.call(l, r.key);
    const v = l[r.key];
    switch (r.operator) {
      case '=':
      case 'in':
        return has && r.values.includes(v!);
      case '!=':
      case 'notin':
        return !has || !r.values.includes(v!);
      case 'exists':
        return has;
      case '!':
        return !has;
    }
  });
}

/**
 * Matches a LabelSelector object. An empty selector ({}) matches everything; a missing selector
 * (undefined) matches nothing, as for PodDisruptionBudgets and Services in Kubernetes.
 */
export function matchesLabelSelector(labels: Record<string, string> | undefined, selector: LabelSelectorObject | undefined | null): boolean {
  if (!selector) return false;
  return matchesRequirements(labels, selectorObjectToRequirements(selector));
}

/** Converts a LabelSelector object into requirements. */
export function selectorObjectToRequirements(selector: LabelSelectorObject): Requirement[] {
  const reqs: Requirement[] = [];
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) reqs.push({ key, operator: '=', values: [value] });
  for (const e of selector.matchExpressions ?? []) {
    const op = e.operator.toLowerCase();
    if (op === 'in') reqs.push({ key: e.key, operator: 'in', values: e.values ?? [] });
    else if (op === 'notin') reqs.push({ key: e.key, operator: 'notin', values: e.values ?? [] });
    else if (op === 'exists') reqs.push({ key: e.key, operator: 'exists', values: [] });
    else if (op === 'doesnotexist') reqs.push({ key: e.key, operator: '!', values: [] });
  }
  return reqs;
}

/**
 * The requirements of a LabelSelector object, parsed once for matching many objects; undefined for a
 * missing selector, which matches nothing (see matchesLabelSelector).
 */
export function labelSelectorRequirements(selector: LabelSelectorObject | undefined | null): Requirement[] | undefined {
  return selector ? selectorObjectToRequirements(selector) : undefined;
}

/** A predicate on label sets. */
export type LabelsMatcher = (labels: Record<string, string> | undefined) => boolean;

// Matchers by selector, so each remembers its verdicts across reconciles; cleared when it grows past
// what any cluster here has selectors for.
const matchers = new Map<string, LabelsMatcher>();
const MAX_MATCHERS = 1000;

/**
 * A LabelSelector object as a predicate on labels, its requirements parsed once. Verdicts on stored
 * (frozen) label sets are remembered: every version of a pod shares its labels object, so a
 * controller re-checking its 28 000 pods each reconcile only looks up what it decided before.
 */
export function labelSelectorMatcher(selector: LabelSelectorObject | undefined | null): LabelsMatcher {
  if (!selector) return () => false;
  const key = JSON.stringify(selector);
  let matcher = matchers.get(key);
  if (!matcher) {
    if (matchers.size >= MAX_MATCHERS) matchers.clear();
    const reqs = selectorObjectToRequirements(selector);
    const onLabels = memoizeFrozen((labels: Record<string, string>) => matchesRequirements(labels, reqs));
    matcher = (labels) => (labels ? onLabels(labels) : matchesRequirements(labels, reqs));
    matchers.set(key, matcher);
  }
  return matcher;
}

/** The requirements of a map selector; undefined for a missing or empty one, which matches nothing (see matchesMapSelector). */
export function mapSelectorRequirements(selector: Record<string, string> | undefined): Requirement[] | undefined {
  if (!selector || Object.keys(selector).length === 0) return undefined;
  return Object.entries(selector).map(([key, value]) => ({ key, operator: '=', values: [value] }));
}

/** Plain map selector (Service.spec.selector, RC selector): every pair must match; empty matches nothing. */
export function matchesMapSelector(labels: Record<string, string> | undefined, selector: Record<string, string> | undefined): boolean {
  if (!selector || Object.keys(selector).length === 0) return false;
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}

const KEY_RE = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const VALUE_RE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/**
 * Parses a label selector string as the API server does ("a=b,c!=d,e in (f,g),!h,i").
 * Invalid input is a 400 BadRequest with the API server's wording.
 */
export function parseLabelSelector(input: string): Requirement[] {
  const reqs: Requirement[] = [];
  const s = input.trim();
  if (s === '') return reqs;
  let i = 0;
  const fail = (msg: string): never => {
    throw badRequest(`unable to parse requirement: ${msg}`);
  };
  const skipWs = () => {
    while (i < s.length && /\s/.test(s[i]!)) i++;
  };
  const readIdent = (): string => {
    skipWs();
    const start = i;
    while (i < s.length && !/[\s,=!()]/.test(s[i]!)) i++;
    return s.slice(start, i);
  };
  while (i < s.length) {
    skipWs();
    let negate = false;
    if (s[i] === '!') {
      negate = true;
      i++;
    }
    const key = readIdent();
    if (!key) fail(`found '${s[i] ?? ''}', expected: identifier`);
    if (!KEY_RE.test(key) || key.length > 316) fail(`invalid label key "${key}": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character`);
    skipWs();
    if (negate) {
      reqs.push({ key, operator: '!', values: [] });
    } else if (i >= s.length || s[i] === ',') {
      reqs.push({ key, operator: 'exists', values: [] });
    } else if (s.startsWith('==', i) || s[i] === '=' || s.startsWith('!=', i)) {
      const op = s.startsWith('!=', i) ? '!=' : '=';
      i += s.startsWith('==', i) || op === '!=' ? 2 : 1;
      const value = readIdent();
      if (!VALUE_RE.test(value) || value.length > 63) fail(`invalid label value: "${value}": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character`);
      reqs.push({ key, operator: op, values: [value] });
    } else {
      const word = readIdent().toLowerCase();
      if (word !== 'in' && word !== 'notin') fail(`found '${word}', expected: '=', '!=', '==', 'in', notin'`);
      skipWs();
      if (s[i] !== '(') fail(`found '${s[i] ?? ''}', expected: '('`);
      i++;
      const values: string[] = [];
      for (;;) {
        const v = readIdent();
        if (!VALUE_RE.test(v)) fail(`invalid label value: "${v}"`);
        values.push(v);
        skipWs();
        if (s[i] === ',') {
          i++;
          continue;
        }
        if (s[i] === ')') {
          i++;
          break;
        }
        fail(`found '${s[i] ?? ''}', expected: ',', ')'`);
      }
      reqs.push({ key, operator: word as 'in' | 'notin', values });
    }
    skipWs();
    if (i < s.length) {
      if (s[i] !== ',') fail(`found '${s[i]}', expected: ',' or 'end of string'`);
      i++;
      if (i >= s.length) fail(`found '', expected: identifier`);
    }
  }
  return reqs;
}
