/** Labels an auditor reads, keyed by the codes the contracts use. */
const LABELS: Record<string, Record<string, string>> = {
  sex: { M: '男', F: '女' },
  visitType: {
    outpatient: '门诊',
    emergency: '急诊',
    inpatient: '住院',
    pharmacy: '药店购药',
    internet: '互联网诊疗',
  },
  insurance: { employee: '职工医保', resident: '居民医保', 'work-injury': '工伤保险', maternity: '生育保险' },
  level: { '1': '一级', '2': '二级', '3': '三级' },
};

function applyFilter(value: unknown, filter: string | undefined): string {
  if (value === undefined || value === null) return '—';
  if (!filter) return String(value);
  if (filter === 'yuan') return `${Number(value).toFixed(2)}元`;
  if (filter === 'list' && Array.isArray(value)) {
    return value.map((v) => applyFilter(v, 'visitType')).join('/');
  }
  const table = LABELS[filter];
  if (!table) throw new Error(`unknown message filter "${filter}"`);
  if (Array.isArray(value)) return value.map((v) => table[String(v)] ?? String(v)).join('/');
  return table[String(value)] ?? String(value);
}

export const MESSAGE_FILTERS = ['yuan', 'list', ...Object.keys(LABELS)];

const PLACEHOLDER = /\{\{\s*([A-Za-z_][\w]*)((?:\.[A-Za-z_]\w*)*)\s*(?:\|\s*([A-Za-z]+)\s*)?\}\}/g;

/** The `{{fact.path|filter}}` placeholders of a template, for linting. */
export function placeholders(template: string): { fact: string; path: string[]; filter?: string }[] {
  return [...template.matchAll(PLACEHOLDER)].map((m) => ({
    fact: m[1] ?? '',
    path: (m[2] ?? '').split('.').filter(Boolean),
    ...(m[3] ? { filter: m[3] } : {}),
  }));
}

/** Render a flag message from the facts the rule saw. */
export function renderMessage(template: string, facts: Record<string, unknown>): string {
  return template.replace(PLACEHOLDER, (_m, fact: string, path: string, filter: string | undefined) => {
    let value: unknown = facts[fact];
    for (const key of path.split('.').filter(Boolean)) {
      value =
        value === null || typeof value !== 'object' ? undefined : (value as Record<string, unknown>)[key];
    }
    return applyFilter(value, filter);
  });
}
