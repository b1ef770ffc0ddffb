/**
 * Just enough PromQL reading to list the metric names a query uses, for the dashboard's checks.
 * Not a parser: it drops strings, label matchers, range selectors and grouping clauses, then keeps
 * identifiers that are neither functions (followed by `(`) nor keywords.
 */

const KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'and', 'or', 'unless', 'offset', 'inf', 'nan']);

/** Metric names in a PromQL expression, sorted and unique. */
export function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = new Set<string>();
  for (const match of stripped.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const name = match[0];
    const after = stripped.slice((match.index ?? 0) + name.length).trimStart();
    if (after.startsWith('(') || KEYWORDS.has(name.toLowerCase())) continue;
    // A number's exponent (1e3) is not a name.
    const before = stripped[(match.index ?? 0) - 1];
    if (before !== undefined && /[0-9.]/.test(before)) continue;
    names.add(name);
  }
  return [...names].sort();
}

/**
 * The family a sample name belongs to: a histogram's `_bucket`, `_sum` and `_count` series belong
 * to the histogram's name when `declared` has it.
 */
export function metricFamily(name: string, declared: ReadonlySet<string>): string {
  if (declared.has(name)) return name;
  const base = name.replace(/_(bucket|sum|count)$/, '');
  return declared.has(base) ? base : name;
}

/** One query of one panel of a Grafana dashboard JSON. */
export interface DashboardQuery {
  row: string;
  panel: string;
  refId: string;
  expr: string;
}

interface JsonPanel {
  type?: string;
  title?: string;
  targets?: { refId?: string; expr?: string }[];
  panels?: JsonPanel[];
}

/** Every Prometheus query of every panel, in dashboard order, with the row it sits under. */
export function dashboardQueries(dashboard: { panels?: JsonPanel[] }): DashboardQuery[] {
  const queries: DashboardQuery[] = [];
  let row = '';
  const visit = (panel: JsonPanel): void => {
    if (panel.type === 'row') {
      row = panel.title ?? '';
      panel.panels?.forEach(visit);
      return;
    }
    for (const target of panel.targets ?? []) {
      if (target.expr) queries.push({ row, panel: panel.title ?? '', refId: target.refId ?? '', expr: target.expr });
    }
  };
  dashboard.panels?.forEach(visit);
  return queries;
}
