import { describe, expect, it } from 'vitest';
import type { LabelSelector } from '../kube/kubeTypes.js';
import { matchesLabelSelector } from '../ops/labelSelector.js';
import { calicoSelector, labelSelectorToCalico, parseCalicoSelector, type Labels } from './calicoSelector.js';

// Calico selector semantics as upstream libcalico-go evaluates them, and the Kubernetes
// LabelSelector conversion checked against the repo's own LabelSelector matcher.

const matches = (selector: string, labels: Labels): boolean => parseCalicoSelector(selector).matches(labels);

/** Every selector/label pair as [selector, labels, expected]. */
function expectTable(rows: readonly (readonly [string, Labels, boolean])[]): void {
  for (const [selector, labels, expected] of rows) {
    expect({ selector, labels, result: matches(selector, labels) }).toEqual({ selector, labels, result: expected });
  }
}

describe('Calico selector operators', () => {
  it('== and != compare values; != and == disagree only when the key is present', () => {
    expectTable([
      ['a == "b"', { a: 'b' }, true],
      ['a == "b"', { a: 'b', c: 'd' }, true],
      ['a == "b"', { a: 'c' }, false],
      ['a == "b"', {}, false],
      ["a == 'b'", { a: 'b' }, true],
      ['a == ""', { a: '' }, true],
      ['a == ""', {}, false],
      ['a != "b"', { a: 'c' }, true],
      ['a != "b"', { a: 'b' }, false],
      // Upstream LabelNeValueNode: an absent key is "not equal".
      ['a != "b"', {}, true],
      ['a != "b"', { c: 'b' }, true],
    ]);
  });

  it('in and not in test set membership; not in matches an absent key, in does not', () => {
    expectTable([
      ['a in {"x", "y"}', { a: 'x' }, true],
      ['a in {"x", "y"}', { a: 'y' }, true],
      ['a in {"x", "y"}', { a: 'z' }, false],
      ['a in {"x", "y"}', {}, false],
      ['a in {}', { a: 'x' }, false],
      ['a not in {"x", "y"}', { a: 'z' }, true],
      ['a not in {"x", "y"}', { a: 'x' }, false],
      ['a not in {"x", "y"}', {}, true],
      ['a not in {}', { a: 'x' }, true],
      [`a in {"'", '"', "c"}`, { a: `"` }, true],
      [`a in {"'", '"', "c"}`, { a: `'` }, true],
      [`a not in {"'", '"', "c"}`, { a: `'` }, false],
    ]);
  });

  it('contains, starts with and ends with test substrings of a present value only', () => {
    expectTable([
      ['a contains "b"', { a: 'abc' }, true],
      ['a contains "b"', { a: 'ac' }, false],
      ['a contains "b"', { x: 'b' }, false],
      ['a contains ""', { a: '' }, true],
      ['a contains ""', {}, false],
      ['a starts with "ab"', { a: 'abc' }, true],
      ['a starts with "ab"', { a: 'cab' }, false],
      ['a starts with "ab"', {}, false],
      ['a ends with "bc"', { a: 'abc' }, true],
      ['a ends with "bc"', { a: 'bca' }, false],
      ['a ends with "bc"', {}, false],
    ]);
  });

  it('has, !has, all() and global()', () => {
    expectTable([
      ['has(a)', { a: '' }, true],
      ['has(a)', { b: 'a' }, false],
      ['!has(a)', { b: 'a' }, true],
      ['!has(a)', { a: 'x' }, false],
      ['!!has(a)', { a: 'x' }, true],
      ['! !! has(a)', { a: 'x' }, false],
      ['all()', {}, true],
      ['all()', { a: 'b' }, true],
      ['!all()', { a: 'b' }, false],
      // global() evaluates true in the selector engine; its namespaceSelector meaning
      // (`!has(projectcalico.org/namespace)`) is a rewrite Calico's callers apply.
      ['global()', {}, true],
      ['global()', { 'projectcalico.org/namespace': 'default' }, true],
    ]);
  });

  it('an empty or blank selector selects everything', () => {
    for (const text of ['', ' ', '\t  ']) {
      expect(parseCalicoSelector(text).matches({})).toBe(true);
      expect(parseCalicoSelector(text).matches({ a: 'b' })).toBe(true);
    }
  });

  it('label keys take dots, slashes, dashes, underscores and digits', () => {
    expectTable([
      ['projectcalico.org/namespace == "shop"', { 'projectcalico.org/namespace': 'shop' }, true],
      ['projectcalico.org/namespace == "shop"', { 'projectcalico.org/name': 'shop' }, false],
      ['pcns.kubernetes.io/metadata.name in {"a", "b"}', { 'pcns.kubernetes.io/metadata.name': 'b' }, true],
      ['pcns.kubernetes.io/metadata.name in {"a", "b"}', { 'kubernetes.io/metadata.name': 'b' }, false],
      ['has(app.kubernetes.io/part-of)', { 'app.kubernetes.io/part-of': 'x' }, true],
      ['k8s_app-2 == "dns"', { 'k8s_app-2': 'dns' }, true],
      ['-a == "b"', { '-a': 'b' }, true],
    ]);
  });

  it('looks labels up as own properties, never through the object prototype', () => {
    expect(matches('has(constructor)', {})).toBe(false);
    expect(matches('toString != "x"', {})).toBe(true);
    expect(matches('has(constructor)', { constructor: 'x' })).toBe(true);
  });
});

describe('Calico selector grammar', () => {
  it('&& binds tighter than ||', () => {
    const s = 'a == "1" || b == "1" && c == "1"';
    expectTable([
      [s, { a: '1' }, true], // a || (b && c); (a || b) && c would be false
      [s, { b: '1' }, false],
      [s, { b: '1', c: '1' }, true],
      ['b == "1" && c == "1" || a == "1"', { a: '1' }, true],
    ]);
  });

  it('! applies to the single operation after it; parentheses regroup', () => {
    expectTable([
      ['!has(a) && has(b)', { b: 'x' }, true],
      ['!has(a) && has(b)', {}, false],
      ['!(has(a) && has(b))', {}, true],
      ['!(has(a) && has(b))', { a: 'x', b: 'x' }, false],
      ['!a == "1" || b == "1"', { a: '2' }, true],
      ['(a == "1" || b == "1") && c == "1"', { a: '1' }, false],
      ['(a == "1" || b == "1") && c == "1"', { a: '1', c: '1' }, true],
      ['((( has(a) )))', { a: 'x' }, true],
      ['!(!has(a) || has(b))', { a: 'a' }, true],
    ]);
  });

  it('accepts upstream lexical forms: no spaces, fused operator words, keyword-named labels, trailing commas', () => {
    expectTable([
      ['a=="b"&&c!="d"', { a: 'b' }, true],
      ['a notin{"x"}', { a: 'y' }, true],
      ['a startswith"ab"', { a: 'abc' }, true],
      ['a endswith  "bc"', { a: 'abc' }, true],
      ['a starts   with "ab"', { a: 'abc' }, true],
      ['a contains"b"', { a: 'abc' }, true],
      ['contains contains "contains"', { contains: 'xcontainsx' }, true],
      ['in in {"in"}', { in: 'in' }, true],
      ['has == "x"', { has: 'x' }, true],
      ['a in {"x",}', { a: 'x' }, true],
      ['has(  a\t)', { a: '' }, true],
      [`a == "it's"`, { a: "it's" }, true],
      [`a == 'say "hi"'`, { a: 'say "hi"' }, true],
    ]);
  });

  it('rejects bad selectors with the text, the offending token and its position', () => {
    const cases: readonly (readonly [string, string])[] = [
      ['b == b', `Invalid Calico selector "b == b": expected a quoted string after '==' but found label 'b' at position 5`],
      ['b', `Invalid Calico selector "b": expected an operator after label 'b' but found end of input at position 1`],
      [
        'label squiggles "v"',
        `Invalid Calico selector "label squiggles \\"v\\"": expected an operator after label 'label' but found "squiggles" at position 6`,
      ],
      ['a = "b"', `Invalid Calico selector "a = \\"b\\"": expected '==' but found '=' at position 2`],
      ['has(a) &', `Invalid Calico selector "has(a) &": expected '&&' but found '&' at position 7`],
      ['has(a) &&', `Invalid Calico selector "has(a) &&": expected a label, 'has(', 'all()', 'global()', '!' or '(' but found end of input at position 9`],
      ['"FOO', `Invalid Calico selector "\\"FOO": unterminated string starting at position 0`],
      ['(a == "x"', `Invalid Calico selector "(a == \\"x\\"": expected ')' to close '(' at position 0 but found end of input at position 9`],
      ['foo in ""', `Invalid Calico selector "foo in \\"\\"": expected '{' after 'in' but found string "" at position 7`],
      [
        'a in {"x" "y"}',
        `Invalid Calico selector "a in {\\"x\\" \\"y\\"}": expected ',' or '}' in the set opened at position 5 but found string "y" at position 10`,
      ],
      [
        'a == "b" c == "d"',
        `Invalid Calico selector "a == \\"b\\" c == \\"d\\"": expected '&&', '||' or end of input but found label 'c' at position 9`,
      ],
      ['a == "b" && %', `Invalid Calico selector "a == \\"b\\" && %": unexpected character "%" at position 12`],
      ['has()', `Invalid Calico selector "has()": expected a label name inside 'has(' at position 4`],
      ['all(x)', `Invalid Calico selector "all(x)": expected ')' to close 'all(' at position 4`],
      // Only space and tab separate tokens upstream.
      ['a\n== "b"', `Invalid Calico selector "a\\n== \\"b\\"": expected an operator after label 'a' but found "\\n" at position 1`],
    ];
    for (const [text, message] of cases) {
      expect(() => parseCalicoSelector(text), text).toThrow(new Error(message));
    }
  });

  it('rejects the rest of upstream parser_test.go badSelectors', () => {
    const bad = [
      'b contains b',
      'b starts with b',
      'b ends with b',
      "'b1' == b",
      'a b',
      '!',
      'foo == "bar" |',
      'foo != ||',
      'foo in {"", ||',
      `"FOO'`,
      "'FOO",
      '(',
      ')',
      '()',
      '%',
      'a == "b" || %',
      'a ',
      'has (a)',
      'all ()',
      'a in {,}',
      `${'k'.repeat(513)} == "v"`,
    ];
    for (const text of bad) expect(() => parseCalicoSelector(text), text).toThrow(/^Invalid Calico selector /);
    expect(() => parseCalicoSelector(`${'k'.repeat(512)} == "v"`)).not.toThrow();
  });
});

describe('calicoSelector (cached)', () => {
  it('returns one parsed instance per text and never caches a failure', () => {
    const a = calicoSelector('tier == "web"');
    expect(calicoSelector('tier == "web"')).toBe(a);
    expect(a.text).toBe('tier == "web"');
    expect(a.matches({ tier: 'web' })).toBe(true);
    expect(calicoSelector('tier == "db"')).not.toBe(a);
    expect(() => calicoSelector('tier ==')).toThrow(/Invalid Calico selector "tier =="/);
    expect(() => calicoSelector('tier ==')).toThrow(/Invalid Calico selector "tier =="/);
  });
});

describe('labelSelectorToCalico', () => {
  it('writes each clause as its Calico operator, joined with &&', () => {
    expect(labelSelectorToCalico({})).toBe('all()');
    expect(labelSelectorToCalico({ matchLabels: {}, matchExpressions: [] })).toBe('all()');
    expect(
      labelSelectorToCalico({
        matchLabels: { app: 'web', 'app.kubernetes.io/name': 'shop' },
        matchExpressions: [
          { key: 'tier', operator: 'In', values: ['a', 'b'] },
          { key: 'env', operator: 'NotIn', values: ['prod'] },
          { key: 'canary', operator: 'Exists' },
          { key: 'legacy', operator: 'DoesNotExist' },
        ],
      }),
    ).toBe('app == "web" && app.kubernetes.io/name == "shop" && tier in {"a", "b"} && env not in {"prod"} && has(canary) && !has(legacy)');
  });

  it('prefixes every key (namespace labels on workload endpoints are pcns.<key>)', () => {
    const text = labelSelectorToCalico(
      { matchLabels: { 'kubernetes.io/metadata.name': 'shop' }, matchExpressions: [{ key: 'team', operator: 'Exists' }] },
      'pcns.',
    );
    expect(text).toBe('pcns.kubernetes.io/metadata.name == "shop" && has(pcns.team)');
    expect(calicoSelector(text).matches({ 'pcns.kubernetes.io/metadata.name': 'shop', 'pcns.team': 'x' })).toBe(true);
    expect(calicoSelector(text).matches({ 'kubernetes.io/metadata.name': 'shop', team: 'x' })).toBe(false);
  });

  it('quotes values with whichever quote they do not contain, and refuses what Calico cannot express', () => {
    expect(labelSelectorToCalico({ matchLabels: { a: 'say "hi"', b: "it's", c: '' } })).toBe(`a == 'say "hi"' && b == "it's" && c == ""`);
    expect(() => labelSelectorToCalico({ matchLabels: { a: `"'` } })).toThrow(
      new Error(`Label value "\\"'" cannot appear in a Calico selector: it contains both quote characters`),
    );
    expect(() => labelSelectorToCalico({ matchLabels: { 'a b': 'x' } })).toThrow(
      new Error(`Label key "a b" cannot appear in a Calico selector: keys are 1-512 characters of [A-Za-z0-9_./-]`),
    );
    expect(() => labelSelectorToCalico({ matchLabels: { '': 'x' } }, 'pcns.')).toThrow(/Label key "pcns\." cannot appear/);
    expect(() => labelSelectorToCalico({ matchExpressions: [{ key: 'a', operator: 'Gt', values: ['1'] }] })).toThrow(
      new Error(`LabelSelector operator "Gt" on key "a" is not one of In, NotIn, Exists, DoesNotExist`),
    );
  });
});

describe('labelSelectorToCalico agrees with Kubernetes LabelSelector matching', () => {
  // Deterministic PRNG (mulberry32) so a failure reproduces exactly.
  function mulberry32(seed: number): () => number {
    let a = seed >>> 0;
    return () => {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  const KEYS = ['app', 'tier', 'app.kubernetes.io/name', 'kubernetes.io/metadata.name'] as const;
  // Includes the empty value and values that force each quote style.
  const VALUES = ['a', 'b', '', 'say "hi"', "it's"] as const;
  const OPERATORS = ['In', 'NotIn', 'Exists', 'DoesNotExist'] as const;

  interface Sample {
    selector: LabelSelector;
    labelSets: Record<string, string>[];
  }

  function samples(seed: number, count: number, labelSetsEach: number): Sample[] {
    const rand = mulberry32(seed);
    const pick = <T,>(xs: readonly T[]): T => {
      const x = xs[Math.floor(rand() * xs.length)];
      if (x === undefined) throw new Error('pick from empty list');
      return x;
    };
    const labelSet = (): Record<string, string> => {
      const labels: Record<string, string> = {};
      for (const k of KEYS) if (rand() < 0.6) labels[k] = pick(VALUES);
      return labels;
    };
    const out: Sample[] = [];
    for (let n = 0; n < count; n++) {
      const selector: LabelSelector = {};
      if (rand() < 0.5) {
        selector.matchLabels = {};
        const entries = Math.floor(rand() * 3);
        for (let i = 0; i < entries; i++) selector.matchLabels[pick(KEYS)] = pick(VALUES);
      }
      if (rand() < 0.8) {
        selector.matchExpressions = [];
        const exprs = 1 + Math.floor(rand() * 3);
        for (let i = 0; i < exprs; i++) {
          const operator = pick(OPERATORS);
          const withValues = operator === 'In' || operator === 'NotIn';
          const values = withValues ? Array.from({ length: Math.floor(rand() * 4) }, () => pick(VALUES)) : undefined;
          selector.matchExpressions.push({ key: pick(KEYS), operator, ...(values ? { values } : {}) });
        }
      }
      out.push({ selector, labelSets: Array.from({ length: labelSetsEach }, labelSet) });
    }
    return out;
  }

  // A workload endpoint as Calico sees it: namespace labels under the prefix, plus pod labels
  // under the bare keys with values no sample selector uses, so a forgotten prefix shows.
  const endpointLabels = (labels: Record<string, string>, prefix: string): Record<string, string> =>
    prefix === ''
      ? labels
      : {
          ...Object.fromEntries(Object.keys(labels).map((k) => [k, 'pod-label'])),
          ...Object.fromEntries(Object.entries(labels).map(([k, v]) => [prefix + k, v])),
        };

  interface Outcome {
    mismatches: { calico: string; labels: Record<string, string>; expected: boolean }[];
    matched: number;
    unmatched: number;
  }

  /** Runs the property over the sample, for a converter and a key prefix on the endpoint's labels. */
  function check(convert: (sel: LabelSelector, prefix: string) => string, prefix: string): Outcome {
    const outcome: Outcome = { mismatches: [], matched: 0, unmatched: 0 };
    for (const { selector, labelSets } of samples(20240611, 200, 12)) {
      const calico = calicoSelector(convert(selector, prefix));
      for (const labels of labelSets) {
        const expected = matchesLabelSelector(selector, labels);
        const actual = calico.matches(endpointLabels(labels, prefix));
        if (actual !== expected) outcome.mismatches.push({ calico: calico.text, labels, expected });
        if (expected) outcome.matched++;
        else outcome.unmatched++;
      }
    }
    return outcome;
  }

  it('on ~200 seeded selectors x 12 label sets, with and without a key prefix', () => {
    for (const prefix of ['', 'pcns.']) {
      const outcome = check(labelSelectorToCalico, prefix);
      expect(outcome.mismatches).toEqual([]);
      // Not vacuous: both verdicts occur often.
      expect(outcome.matched).toBeGreaterThan(200);
      expect(outcome.unmatched).toBeGreaterThan(200);
    }
  });

  it('negative control: a converter that makes NotIn require the key is caught', () => {
    const requiresKeyForNotIn = (sel: LabelSelector, prefix: string): string =>
      labelSelectorToCalico(
        {
          ...sel,
          matchExpressions: (sel.matchExpressions ?? []).flatMap((e) => (e.operator === 'NotIn' ? [{ key: e.key, operator: 'Exists' }, e] : [e])),
        },
        prefix,
      );
    expect(check(requiresKeyForNotIn, '').mismatches.length).toBeGreaterThan(0);
  });

  it('negative control: a converter that drops the key prefix is caught', () => {
    expect(check((sel) => labelSelectorToCalico(sel), 'pcns.').mismatches.length).toBeGreaterThan(0);
  });
});
