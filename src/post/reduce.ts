import type { SubjectFlag } from '../contracts/flag.ts';
import type { Score, ScoreComponentValue } from '../contracts/score.ts';
import { flagIdFor } from '../rules/screen.ts';
import type { Aggregates, SubjectAggregate } from './aggregates.ts';
import type { PostPolicy, ScoreComponent } from './policy.ts';
import { type PeriodRuleSet, periodFlagFields } from './rules.ts';

export interface ReduceContext {
  periodRules: PeriodRuleSet;
  policy: PostPolicy;
  period: string;
  now: Date;
  ruleSetVersion: string;
}

export interface Reduced {
  flags: SubjectFlag[];
  /** Ordered by composite, lowest (most in need of review) first, then kind and id. */
  scores: Score[];
}

/** Scales a median absolute deviation to a normal distribution's standard deviation. */
const MAD_SCALE = 1.4826;

export const INDICATORS = [
  'drugShare',
  'labExamShare',
  'consumableShare',
  'treatmentShare',
  'ctShare',
  'mriShare',
  'readmission31d',
  'costIndex',
] as const;
export type Indicator = (typeof INDICATORS)[number];

const INDICATOR_LABELS: Record<Indicator, string> = {
  drugShare: '药费占比',
  labExamShare: '检验检查占比',
  consumableShare: '耗材占比',
  treatmentShare: '治疗占比',
  ctShare: 'CT检查占比',
  mriShare: '核磁检查占比',
  readmission31d: '31天非计划再入院率',
  costIndex: '次均费用指数',
};

export function median(values: readonly number[]): number | null {
  if (!values.length) return null;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

const round = (n: number, digits: number): number => {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
};
const ratio = (a: number, b: number): number | null => (b > 0 ? a / b : null);
const pct = (v: number): string => `${(v * 100).toFixed(1)}%`;

interface PeerStats {
  median: number;
  /** Median on the scale the spread is measured on (log for ratios). */
  centre: number;
  /** Scaled MAD on that scale. */
  mad: number;
  logScale: boolean;
  count: number;
}

const peerKey = (s: SubjectAggregate): string => `${s.kind}|${s.level}`;

/**
 * The reduce: merged aggregates → peer statistics, hospital and doctor flags, and scores. Pure and
 * deterministic: the same aggregates give the same flags and scores whatever order the partials
 * were merged in (subjects are visited in key order, values rounded only at the end).
 */
export async function reduceAudit(aggregates: Aggregates, ctx: ReduceContext): Promise<Reduced> {
  const { policy } = ctx;
  const subjects = Object.keys(aggregates.subjects)
    .sort()
    .map((k) => aggregates.subjects[k] as SubjectAggregate);
  const eligible = (s: SubjectAggregate): boolean => s.cases >= policy.scores.peerMinCases;
  /** What an indicator's value rests on: discharges for the readmission rate, cases otherwise. */
  const basisOf = (s: SubjectAggregate, indicator: Indicator): number =>
    indicator === 'readmission31d' ? s.discharges : s.cases;

  // Case mix: the peer median cost per case of each (visit kind, diagnosis category) group.
  const groupMedians = new Map<string, number>();
  {
    const perGroup = new Map<string, number[]>();
    for (const s of subjects) {
      if (!eligible(s)) continue;
      for (const [g, v] of Object.entries(s.groups)) {
        if (v.cases < policy.scores.groupMinCases) continue;
        const key = `${peerKey(s)}|${g}`;
        const list = perGroup.get(key) ?? [];
        list.push(v.amount / v.cases);
        perGroup.set(key, list);
      }
    }
    for (const [key, list] of perGroup) groupMedians.set(key, median(list) as number);
  }
  const costIndexOf = (s: SubjectAggregate): number | null => {
    let observed = 0;
    let expected = 0;
    for (const [g, v] of Object.entries(s.groups)) {
      const m = groupMedians.get(`${peerKey(s)}|${g}`);
      if (m === undefined) continue;
      observed += v.amount;
      expected += v.cases * m;
    }
    return ratio(observed, expected);
  };

  const values = new Map<SubjectAggregate, Record<Indicator, number | null>>();
  for (const s of subjects) {
    values.set(s, {
      drugShare: ratio(s.drugAmount, s.amount),
      labExamShare: ratio(s.classAmounts.labExam, s.amount),
      consumableShare: ratio(s.consumableAmount, s.amount),
      treatmentShare: ratio(s.classAmounts.treatment, s.amount),
      ctShare: ratio(s.classAmounts.ct, s.amount),
      mriShare: ratio(s.classAmounts.mri, s.amount),
      readmission31d: ratio(s.readmissions, s.discharges),
      costIndex: costIndexOf(s),
    });
  }

  const stats = new Map<string, PeerStats>();
  const statsOf = (s: SubjectAggregate, indicator: Indicator): PeerStats | undefined => {
    const key = `${peerKey(s)}|${indicator}`;
    let st = stats.get(key);
    if (!st) {
      const list: number[] = [];
      for (const p of subjects) {
        const v = values.get(p)?.[indicator];
        if (
          peerKey(p) === peerKey(s) &&
          basisOf(p, indicator) >= policy.scores.peerMinCases &&
          v !== null &&
          v !== undefined
        )
          list.push(v);
      }
      const m = median(list);
      if (m === null) return undefined;
      // Shares and the cost index are ratios, skewed to the right: their spread is measured on
      // the log scale, where a doubling and a halving are equally far (the rate stays linear).
      const logScale = indicator !== 'readmission31d';
      const scaled = logScale ? list.filter((v) => v > 0).map(Math.log) : list;
      const centre = median(scaled) ?? 0;
      st = {
        median: m,
        centre,
        mad: (median(scaled.map((v) => Math.abs(v - centre))) ?? 0) * MAD_SCALE,
        logScale,
        count: list.length,
      };
      stats.set(key, st);
    }
    return st;
  };

  const flags: SubjectFlag[] = [];
  const createdAt = ctx.now.toISOString();
  const subjectFlag = (
    file: PeriodRuleSet['rules'][number]['file'],
    kind: 'hospital' | 'doctor',
    id: string,
    hospitalId: string,
    facts: Record<string, unknown>,
    amountAtRisk: number,
  ): SubjectFlag => ({
    flagId: flagIdFor({ claimId: `${kind}#${id}#${ctx.period}`, hospitalId }, file.id, file.version, []),
    lineNos: [],
    ...periodFlagFields(file, facts, ctx.ruleSetVersion, createdAt),
    amountAtRisk: round(Math.max(0, amountAtRisk), 2),
    hospitalId,
    ...(kind === 'doctor' ? { doctorId: id } : {}),
    subject: { kind, id, period: ctx.period },
  });

  for (const rule of ctx.periodRules.ofSubject('peerIndicator')) {
    const indicator = rule.file.params.indicator as Indicator;
    if (!INDICATORS.includes(indicator))
      throw new TypeError(`${rule.source}: params.indicator "${indicator}" is unknown`);
    for (const s of subjects) {
      const v = values.get(s)?.[indicator];
      const st = statsOf(s, indicator);
      if (v === null || v === undefined || !st) continue;
      const isShare = indicator !== 'costIndex';
      // What the excess costs the fund: the share above the median of the subject's spending.
      const excess =
        indicator === 'costIndex'
          ? s.amount * (1 - 1 / v)
          : indicator === 'readmission31d'
            ? 0
            : (v - st.median) * s.amount;
      const text = (x: number): string => (isShare ? pct(x) : x.toFixed(2));
      const subject = {
        kind: s.kind,
        kindName: s.kind === 'hospital' ? '医院' : '医师',
        id: s.id,
        level: s.level,
        indicator,
        label: INDICATOR_LABELS[indicator],
        value: v,
        valueText: text(v),
        peerMedian: st.median,
        peerMedianText: text(st.median),
        peerMad: st.mad,
        madsAboveMedian:
          st.mad > 0 && (!st.logScale || v > 0)
            ? round(((st.logScale ? Math.log(v) : v) - st.centre) / st.mad, 1)
            : null,
        ratioToMedian: st.median > 0 ? round(v / st.median, 2) : null,
        excessAmount: round(Math.max(0, excess), 2),
        cases: basisOf(s, indicator),
        peers: st.count,
      };
      const facts = { subject, params: rule.file.params };
      if (!(await ctx.periodRules.holds(rule, facts))) continue;
      flags.push(subjectFlag(rule.file, s.kind, s.id, s.hospitalId, facts, excess));
    }
  }

  for (const rule of ctx.periodRules.ofSubject('doctorDay')) {
    for (const key of Object.keys(aggregates.doctorDays).sort()) {
      const day = aggregates.doctorDays[key] as { hospitalId: string; patients: number };
      const [doctorId = '', date = ''] = key.split('|');
      const facts = {
        subject: { doctorId, hospitalId: day.hospitalId, date, patients: day.patients },
        params: rule.file.params,
      };
      if (!(await ctx.periodRules.holds(rule, facts))) continue;
      const flag = subjectFlag(rule.file, 'doctor', doctorId, day.hospitalId, facts, 0);
      // One flag per doctor, day and rule: the day is part of what it is about.
      flag.flagId = flagIdFor(
        { claimId: `doctor#${doctorId}#${date}`, hospitalId: day.hospitalId },
        rule.file.id,
        rule.file.version,
        [],
      );
      flags.push(flag);
    }
  }

  const scores = subjects.map((s) =>
    scoreOf(s, values.get(s) as Record<Indicator, number | null>, statsOf, ctx),
  );
  scores.sort(
    (a, b) => a.composite - b.composite || a.kind.localeCompare(b.kind) || a.id.localeCompare(b.id),
  );
  return { flags, scores };
}

function scoreOf(
  s: SubjectAggregate,
  v: Record<Indicator, number | null>,
  statsOf: (s: SubjectAggregate, i: Indicator) => PeerStats | undefined,
  ctx: ReduceContext,
): Score {
  const policy = ctx.policy.scores;
  const raw: Record<ScoreComponent, { value: number | null; peerMedian?: number | null; how: string }> = {
    costIndex: {
      value: v.costIndex,
      how: '本期实际费用 ÷ Σ(各病种组病例数 × 同级同行该组次均费用中位数)，病种组 = 门诊/住院 × 主诊断ICD-10类目',
    },
    drugShare: {
      value: v.drugShare,
      peerMedian: statsOf(s, 'drugShare')?.median ?? null,
      how: '(药品 + 中药饮片费用) ÷ 总费用，按与同级同行中位数之比计分',
    },
    labExamShare: {
      value: v.labExamShare,
      peerMedian: statsOf(s, 'labExamShare')?.median ?? null,
      how: '检验检查类服务项目费用 ÷ 总费用，按与同级同行中位数之比计分',
    },
    consumableShare: {
      value: v.consumableShare,
      peerMedian: statsOf(s, 'consumableShare')?.median ?? null,
      how: '医用耗材费用 ÷ 总费用，按与同级同行中位数之比计分',
    },
    readmission31d: {
      value: v.readmission31d,
      how: `出院后${policy.readmissionDays}天内同院非计划再入院人次 ÷ 出院人次（计划周期诊断除外）`,
    },
    violationRate: {
      value: ratio(s.violationClaims, s.cases),
      how: '有违规（明确违规）标记的结算数 ÷ 结算数',
    },
    highSeverityAmountShare: {
      value: ratio(s.highViolationAmount, s.amount),
      how: '高严重度违规涉及金额 ÷ 总费用',
    },
    chronicFollowUp: {
      value: ratio(s.chronicFollowedUp, s.chronicPatients),
      how: '本期有复诊的糖尿病、高血压患者 ÷ 本期就诊的该类患者',
    },
  };
  const components: Record<string, ScoreComponentValue> = {};
  let weighted = 0;
  let weights = 0;
  for (const name of Object.keys(raw) as ScoreComponent[]) {
    const c = policy.components[name];
    const r = raw[name];
    const measure =
      r.value === null
        ? null
        : c.measure === 'ratioToPeerMedian'
          ? r.peerMedian
            ? r.value / r.peerMedian
            : null
          : r.value;
    const score =
      measure === null
        ? null
        : round(100 * Math.min(1, Math.max(0, (c.worst - measure) / (c.worst - c.best))), 1);
    if (score !== null) {
      weighted += c.weight * score;
      weights += c.weight;
    }
    components[name] = {
      label: c.label,
      value: r.value === null ? null : round(r.value, 4),
      ...(r.peerMedian !== undefined
        ? { peerMedian: r.peerMedian === null ? null : round(r.peerMedian, 4) }
        : {}),
      score,
      weight: c.weight,
      how: `${r.how}；${c.measure === 'ratioToPeerMedian' ? '比值' : '取值'}${c.best}得100分、${c.worst}得0分，线性插值`,
    };
  }
  return {
    kind: s.kind,
    id: s.id,
    hospitalId: s.hospitalId,
    period: ctx.period,
    composite: weights ? round(weighted / weights, 1) : 0,
    cases: s.cases,
    amount: round(s.amount, 2),
    components,
    peers: {
      level: s.level,
      count: statsOf(s, 'drugShare')?.count ?? 0,
      basis: `同级（${s.level}级）${s.kind === 'hospital' ? '医院' : '医师'}中本期病例数≥${policy.peerMinCases}者`,
    },
    policyVersion: policy.version,
    ruleSetVersion: ctx.ruleSetVersion,
  };
}
