/** String label and field selectors ("a=b,c!=d,e,!f,g in (x,y)") for the in-memory fake cluster. */

type Requirement = { key: string; op: '=' | '!=' | 'exists' | '!exists' | 'in' | 'notin'; values: string[] };

/** Parses a label selector string. */
export function parseSelector(selector: string | undefined): Requirement[] {
  if (!selector?.trim()) return [];
  const parts = selector.match(/[^,(]+(\([^)]*\))?/g) ?? [];
  return parts.map((raw) => {
    const s = raw.trim().replace(/^,/, '').trim();
    let m = /^(\S+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(s);
    if (m) return { key: m[1]!, op: m[2] as 'in' | 'notin', values: m[3]!.split(',').map((v) => v.trim()) };
    m = /^([^=!\s]+)\s*(==|=|!=)\s*(.*)$/.exec(s);
    if (m) return { key: m[1]!, op: m[2] === '!=' ? '!=' : '=', values: [m[3]!.trim()] };
    if (s.startsWith('!')) return { key: s.slice(1), op: '!exists', values: [] };
    return { key: s, op: 'exists', values: [] };
  });
}

/** True when `values` (label map or flattened fields) satisfy the selector string. */
export function matchesSelector(selector: string | undefined, values: Record<string, string | undefined>): boolean {
  return parseSelector(selector).every((r) => {
    const v = values[r.key];
    switch (r.op) {
      case '=':
        return v === r.values[0];
      case '!=':
        return v !== r.values[0];
      case 'exists':
        return v !== undefined;
      case '!exists':
        return v === undefined;
      case 'in':
        return v !== undefined && r.values.includes(v);
      case 'notin':
        return v === undefined || !r.values.includes(v);
    }
  });
}
