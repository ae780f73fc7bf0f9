import type { PostFlag } from '../contracts/flag.ts';
import type { Score } from '../contracts/score.ts';
import { SCORE_COMPONENTS } from './policy.ts';

/** Terminal width of a string: CJK characters take two columns. */
function width(s: string): number {
  let w = 0;
  for (const ch of s) w += /[\u2e80-\uffdc]/.test(ch) ? 2 : 1;
  return w;
}
const pad = (s: string, n: number): string => s + ' '.repeat(Math.max(0, n - width(s)));
const padLeft = (s: string, n: number): string => ' '.repeat(Math.max(0, n - width(s))) + s;
const yuan = (n: number): string =>
  n.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });

/** Flags by rule: how many and how much money, the most costly first. */
export function formatFlagSummary(flags: readonly PostFlag[]): string {
  const rows = new Map<string, { ruleClass: string; count: number; amount: number; subjects: number }>();
  for (const f of flags) {
    const r = rows.get(f.ruleId) ?? { ruleClass: f.basis.ruleClass, count: 0, amount: 0, subjects: 0 };
    r.count += 1;
    r.amount += f.amountAtRisk;
    if ('subject' in f) r.subjects += 1;
    rows.set(f.ruleId, r);
  }
  const lines = [
    `${pad('规则类别', 30)}${pad('规则', 28)}${padLeft('标记数', 8)}${padLeft('涉及金额(元)', 16)}`,
  ];
  for (const [ruleId, r] of [...rows].sort((a, b) => b[1].amount - a[1].amount || a[0].localeCompare(b[0]))) {
    lines.push(
      `${pad(r.ruleClass, 30)}${pad(ruleId, 28)}${padLeft(String(r.count), 8)}${padLeft(yuan(r.amount), 16)}`,
    );
  }
  return lines.join('\n');
}

const SHORT: Record<string, string> = {
  costIndex: '费用指数',
  drugShare: '药占比',
  labExamShare: '检查占比',
  consumableShare: '耗材占比',
  readmission31d: '再入院率',
  violationRate: '违规率',
  highSeverityAmountShare: '高危金额',
  chronicFollowUp: '慢病随访',
};

function componentText(name: string, c: Score['components'][string] | undefined): string {
  if (!c || c.value === null) return '—';
  return name === 'costIndex' ? c.value.toFixed(2) : `${(c.value * 100).toFixed(1)}%`;
}

/**
 * The ranked scorecard an auditor reads: lowest composite first (those to look at), each with the
 * numbers behind it; `limit` rows per kind.
 */
export function formatScorecard(scores: readonly Score[], period: string, limit = 10): string {
  const out: string[] = [];
  for (const kind of ['hospital', 'doctor'] as const) {
    const list = scores.filter((s) => s.kind === kind);
    if (!list.length) continue;
    out.push(
      `${period} ${kind === 'hospital' ? '医院' : '医师'}费用-质量综合评分（共${list.length}个，按综合分由低到高，前${Math.min(limit, list.length)}名；满分100，越高越好）`,
    );
    out.push(
      `${pad('排名', 6)}${pad(kind === 'hospital' ? '医院' : '医师', 12)}${pad('级别', 6)}${padLeft('综合分', 8)}${padLeft('病例', 7)}${SCORE_COMPONENTS.map((c) => padLeft(SHORT[c] ?? c, 10)).join('')}`,
    );
    list.slice(0, limit).forEach((s, i) => {
      out.push(
        `${pad(String(i + 1), 6)}${pad(s.id, 12)}${pad(`${s.peers.level}级`, 6)}${padLeft(s.composite.toFixed(1), 8)}${padLeft(String(s.cases), 7)}${SCORE_COMPONENTS.map((c) => padLeft(componentText(c, s.components[c]), 10)).join('')}`,
      );
    });
  }
  return out.join('\n');
}

/** Scores as CSV: one row per subject, value and 0–100 score of each component. */
export function scoresCsv(scores: readonly Score[]): string {
  const header = [
    'kind',
    'id',
    'hospitalId',
    'period',
    'level',
    'composite',
    'cases',
    'amount',
    ...SCORE_COMPONENTS.flatMap((c) => [`${c}`, `${c}Score`]),
  ];
  const rows = scores.map((s) =>
    [
      s.kind,
      s.id,
      s.hospitalId,
      s.period,
      s.peers.level,
      s.composite,
      s.cases,
      s.amount,
      ...SCORE_COMPONENTS.flatMap((c) => [s.components[c]?.value ?? '', s.components[c]?.score ?? '']),
    ].join(','),
  );
  return `${[header.join(','), ...rows].join('\n')}\n`;
}
