/**
 * Fixture factories for the review API: flags written as the in-process stage writes them (through
 * DynamoOutcomeStore, so the items carry the same keys), scores in the post-event stage's contract.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Claim } from '../../src/contracts/claim.ts';
import type { Flag } from '../../src/contracts/flag.ts';
import type { Score, ScoreComponentValue } from '../../src/contracts/score.ts';
import type { ClaimOutcome } from '../../src/pipeline/in-process.ts';
import { addCounted, countedOf, counterItems, type Deltas } from '../../src/review/counts.ts';
import { deepMerge, readBaseClaim } from '../../src/rules/fixtures.ts';
import { defaultRulesDir } from '../../src/rules/load.ts';
import { writeInBatches } from '../../src/stores/batch.ts';
import { DynamoOutcomeStore, flagItem, historyItem, type OutcomeTables } from '../../src/stores/dynamo.ts';
import { line, metformin } from './claims.ts';

/** A knowledge point of the imported NHSA catalogue, so sample flags cite the real text. */
function knowledgePoint(ruleClass: string, itemName: string): { kpId: string; text: string } {
  const file = join(defaultRulesDir(), 'catalogue', 'knowledge-points.json');
  const { knowledgePoints } = JSON.parse(readFileSync(file, 'utf8')) as {
    knowledgePoints: { kpId: string; ruleClass: string; itemName: string; text: string }[];
  };
  const point = knowledgePoints.find((k) => k.ruleClass === ruleClass && k.itemName === itemName);
  if (!point) throw new Error(`no knowledge point ${ruleClass} / ${itemName} in ${file}`);
  return point;
}

const APALUTAMIDE_SEX = knowledgePoint('药品区分性别使用', '阿帕他胺片');

/**
 * Real rules of the pack (id, class, basis, severity, result, in-process action), each on the line
 * of the sample claim it is about: line 1 metformin, line 2 apalutamide (male-only; the base
 * claim's patient is female).
 */
export const SAMPLE_RULES = [
  {
    ruleId: 'GZ-DRUG-SEX',
    ruleClass: '药品区分性别使用',
    code: 'GZ10000301004000',
    knowledgePoint: APALUTAMIDE_SEX.kpId,
    text: APALUTAMIDE_SEX.text,
    severity: 'high',
    result: 'violation',
    action: 'reject',
    line: 2,
    message: '阿帕他胺片限男性使用，患者为女性',
  },
  {
    ruleId: 'GZ-REPEAT-PRESCRIPTION',
    ruleClass: '重复开药',
    code: 'GZ10000301006000',
    text: '同一参保人同一药品在前次所开药量尚未用完时再次开具。',
    severity: 'medium',
    result: 'suspicious',
    action: 'hold',
    line: 1,
    message: '二甲双胍片前次所开药量尚余12天（允许提前7天）',
  },
  {
    ruleId: 'GZ-DRUG-COURSE',
    ruleClass: '药品限支付疗程',
    code: 'GZ10000101010000',
    severity: 'medium',
    result: 'violation',
    action: 'hold',
    line: 2,
    message: '阿帕他胺片用药天数超出限定支付疗程',
  },
  {
    ruleId: 'GZ-DRUG-COURSE-HISTORY',
    ruleClass: '药品限支付疗程',
    code: 'GZ10000101010000',
    severity: 'medium',
    result: 'violation',
    action: 'hold',
    line: 2,
    message: '阿帕他胺片跨结算累计用药天数超出限定支付疗程',
  },
  {
    ruleId: 'NHSA-DRUG-MAX-SUPPLY',
    ruleClass: '药品限最大开药天数/开药量',
    code: 'NHSA2025-9',
    text: '门诊开药量原则上不超过30天（长期处方须有慢性病诊断依据）。',
    severity: 'medium',
    result: 'suspicious',
    action: 'hold',
    line: 1,
    message: '二甲双胍片一次开药天数超过门诊30天上限',
  },
] as const;

export const SAMPLE_HOSPITALS = ['H3001', 'H3002', 'H2001'] as const;

export interface SampleClaim {
  claim: Claim;
  flags: Flag[];
}

/** A small deterministic generator (mulberry32), so every run seeds the same data. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * `count` claims with one flag each (every few claims a second one), spread over hospitals, doctors,
 * rules, stages and the months from `firstMonth` on, created at distinct instants.
 */
export function sampleClaims(
  count: number,
  options: { seed?: number; start?: string; stepMinutes?: number; prefix?: string } = {},
): SampleClaim[] {
  const base = readBaseClaim(defaultRulesDir()) as unknown as Record<string, unknown>;
  const next = random(options.seed ?? 1);
  const start = Date.parse(options.start ?? '2026-08-01T08:00:00Z');
  const step = (options.stepMinutes ?? 97) * 60_000;
  const out: SampleClaim[] = [];
  const patients = Math.max(97, Math.ceil(count / 8));
  for (let i = 0; i < count; i++) {
    const hospitalId = SAMPLE_HOSPITALS[i % SAMPLE_HOSPITALS.length] as string;
    const doctorId = `D-${hospitalId}-0${1 + Math.floor(next() * 3)}`;
    // About eight claims a patient, as a year of a real insured's outpatient visits.
    const insuredId = `P-${String(i % patients).padStart(6, '0')}`;
    const claimId = `C-${options.prefix ?? 'REV'}-${String(i).padStart(6, '0')}`;
    const createdAt = new Date(start + i * step).toISOString();
    const day = createdAt.slice(0, 10);
    const claim = deepMerge(base, {
      claimId,
      submittedAt: createdAt,
      patient: { insuredId },
      hospital: { hospitalId },
      doctorId,
      items: [
        metformin({ serviceDate: day }),
        line(2, 'XL02BBA326A001010102180', '阿帕他胺片', 'drug', {
          quantity: 30,
          unitPrice: 40,
          amount: 1200,
          serviceDate: day,
          daysSupply: 30,
        }),
      ],
      totals: { amount: 1221, fundPaid: 976.8, selfPaid: 244.2 },
    }) as unknown as Claim;
    const rules = [
      SAMPLE_RULES[i % SAMPLE_RULES.length],
      ...(i % 4 === 0 ? [SAMPLE_RULES[(i + 2) % SAMPLE_RULES.length]] : []),
    ];
    const flags = rules.map((rule, k): Flag => {
      if (!rule) throw new Error('no rule');
      const amount = Math.round((20 + next() * 2000) * 100) / 100;
      return {
        flagId: `F-${claimId}-${k}`,
        claimId,
        lineNos: [rule.line],
        ruleId: rule.ruleId,
        ruleVersion: 1,
        // Seeded flags name no published set: the review API shows the version, never loads it.
        ruleSetVersion: 'rs-seeded',
        stage: i % 5 === 0 ? 'post' : 'in',
        severity: rule.severity,
        result: rule.result,
        action: rule.action,
        amountAtRisk: amount,
        hospitalId,
        doctorId,
        insuredId,
        message: rule.message,
        basis: {
          ruleClass: rule.ruleClass,
          code: rule.code,
          ...('knowledgePoint' in rule ? { knowledgePoint: rule.knowledgePoint } : {}),
          ...('text' in rule ? { text: rule.text } : {}),
        },
        status: 'open',
        createdAt,
      };
    });
    out.push({ claim, flags });
  }
  return out;
}

/** Writes the sample claims with their flags and history items, as the in-process stage does. */
export async function writeSampleClaims(
  documents: DynamoDBDocumentClient,
  tables: OutcomeTables,
  claims: readonly SampleClaim[],
): Promise<void> {
  const store = new DynamoOutcomeStore(documents, tables);
  for (let i = 0; i < claims.length; i += 50) {
    const outcomes: ClaimOutcome[] = claims.slice(i, i + 50).map(({ claim, flags }) => ({
      claim,
      flags,
      decidedAt: flags[0]?.createdAt ?? claim.submittedAt,
      decision: { claimId: claim.claimId, outcome: 'hold', lines: [], ruleSetVersion: 'test' },
    }));
    const { failed } = await store.recordAll(outcomes);
    if (failed.size) throw new Error(`could not write sample claims: ${[...failed.values()][0]?.message}`);
  }
}

/**
 * Loads many sample claims at once, for the bench: their history items and flags as the stores
 * build them (historyItem, flagItem), and the review counters summed up front and put once per
 * scope (counterItems), all with BatchWriteItem. The decisions table is left empty: the review API
 * never reads it (only the in-process stage does, for claim identity), so these claims cannot be
 * resubmitted as corrections; writeSampleClaims writes them the in-process way.
 */
export async function loadSampleClaims(
  documents: DynamoDBDocumentClient,
  tables: Pick<OutcomeTables, 'claims' | 'flags'>,
  claims: readonly SampleClaim[],
): Promise<void> {
  const deltas: Deltas = new Map();
  const flags = claims.flatMap((c) => c.flags);
  for (const flag of flags) addCounted(deltas, countedOf(flag), 1);
  await writeInBatches(
    documents,
    tables.claims,
    claims.map(({ claim }) => ({ PutRequest: { Item: historyItem(claim) } })),
  );
  await writeInBatches(documents, tables.flags, [
    ...flags.map((flag) => ({ PutRequest: { Item: flagItem(flag) } })),
    ...counterItems(deltas).map((Item) => ({ PutRequest: { Item } })),
  ]);
}

const component = (label: string, value: number, peerMedian: number, how: string): ScoreComponentValue => ({
  label,
  value,
  peerMedian,
  score: Math.max(0, Math.min(100, Math.round(100 - Math.abs(value - peerMedian) * 200))),
  weight: 1,
  how,
});

/**
 * Scores of a hospital and its doctors over months in the post-event stage's Score contract; write
 * them with its writer (src/stores/post-event.ts), so the review API reads what the stage writes.
 */
export function sampleScores(hospitalId: string, months: readonly string[], doctors = 2): Score[] {
  const scores: Score[] = [];
  const common = {
    peers: { level: 3, count: 14, basis: '三级医院 level 3' },
    policyVersion: 1,
    ruleSetVersion: 'test',
  } as const;
  months.forEach((period, m) => {
    scores.push({
      kind: 'hospital',
      id: hospitalId,
      hospitalId,
      period,
      composite: 70 + m * 2,
      cases: 400 + m * 10,
      amount: 250_000 + m * 1_000,
      components: {
        costIndex: component(
          '费用指数',
          Math.round((1.2 - m * 0.03) * 100) / 100,
          1,
          'observed ÷ peer median, case-mix weighted',
        ),
        drugShare: component(
          '药占比',
          Math.round((0.34 - m * 0.01) * 100) / 100,
          0.29,
          'drug amount ÷ total amount',
        ),
        readmission31d: component('31天再入院率', 0.041, 0.035, 'stays followed by another within 31 days'),
        violationRate: component('违规率', 0.012, 0.01, 'claims with a violation flag ÷ claims'),
      },
      ...common,
    });
    for (let d = 1; d <= doctors; d++)
      scores.push({
        kind: 'doctor',
        id: `D-${hospitalId}-0${d}`,
        hospitalId,
        period,
        composite: 60 + d * 5 + m,
        cases: 40 + d,
        amount: 20_000 + d * 500,
        components: {
          costIndex: component(
            '费用指数',
            Math.round((1 + d * 0.1) * 100) / 100,
            1,
            'observed ÷ peer median',
          ),
          drugShare: component('药占比', 0.3, 0.28, 'drug amount ÷ total amount'),
        },
        ...common,
      });
  });
  return scores;
}

export { writeScores } from '../../src/stores/post-event.ts';
