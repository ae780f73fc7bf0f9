import { createHash } from 'node:crypto';
import { type DraftClaim, serviceSpan } from '../contracts/claim.ts';
import type { Decision, LineAction } from '../contracts/decision.ts';
import { type Action, actionRank, type Flag, type RuleResultKind, type Stage } from '../contracts/flag.ts';
import type { RuleFile } from '../contracts/rule.ts';
import { ageInYears, epochDay } from '../dates.ts';
import type { HistoryClaim } from '../history/store.ts';
import { exposureOf } from './at-risk.ts';
import { exemptionFor } from './exemptions.ts';
import type { HospitalFact, PatientFact, VisitFact } from './facts.ts';
import { renderMessage } from './message.ts';
import { readPath } from './paths.ts';
import type { CompiledRule, RuleSet } from './rule-set.ts';
import type { CatalogueLookup, ClaimSubjectKind, Subject } from './subjects/kind.ts';

export type { Decision, LineAction };

export interface Screening {
  flags: Flag[];
  decision: Decision;
  /** flagId → what to do instead, where the facts give a concrete answer (for pre-event alerts). */
  suggestions: Record<string, string>;
}

export interface ScreenOptions {
  stage: Stage;
  /** Timestamp written on flags; injectable so tests and replays are deterministic. */
  now?: Date;
  /** Off only to check that memoised outcomes equal fresh engine runs. */
  memo?: boolean;
  /** The patient's earlier claims over `RuleSet.historyDays(stage)`; history rules see none without it. */
  history?: readonly HistoryClaim[];
  /** How long the screen may take; default SCREEN_BUDGET_MS. */
  budgetMs?: number;
}

/**
 * Every screen ends within this time (bounded by construction): a claim within CLAIM_LIMITS takes
 * tens of milliseconds, so only a pathological one reaches it — and it fails with a reason (a 422
 * pre-event, a dead letter in-process) instead of timing its function out.
 */
export const SCREEN_BUDGET_MS = 3_000;

/** A screen that did not finish within its time budget; nothing it found so far is kept. */
export class ScreenBudgetError extends Error {
  override readonly name = 'ScreenBudgetError';
  constructor(
    readonly budgetMs: number,
    readonly lines: number,
    readonly ruleId: string,
  ) {
    super(
      `screening the claim's ${lines} lines did not finish within its ${budgetMs} ms budget (at rule ${ruleId}); ` +
        'split it into smaller claims',
    );
  }
}

/** Subjects judged between two looks at the clock. */
const BUDGET_CHECK_EVERY = 64;
/** Rules begun between two looks at the clock (a rule's subjects are checked as above). */
const BUDGET_CHECK_EVERY_RULES = 8;

/** What a flag's claim is, for its id: the claim id within its hospital, and its version. */
export interface FlagClaimKey {
  claimId: string;
  hospitalId: string;
  /** A correction's version (2, 3, …); the first version is left out of the id. */
  version?: number;
}

/**
 * Derived from claim (id, hospital and version), rule, rule version and lines, so a redelivered
 * claim yields the same flag, and neither another hospital's claim of the same id nor a
 * correction of the claim can overwrite it.
 */
export function flagIdFor(
  claim: FlagClaimKey,
  ruleId: string,
  ruleVersion: number,
  lineNos: readonly number[],
): string {
  const lines = [...lineNos].sort((a, b) => a - b).join(',');
  const version = claim.version && claim.version > 1 ? `@v${claim.version}` : '';
  const key = `${claim.hospitalId}/${claim.claimId}${version}|${ruleId}|${ruleVersion}|${lines}`;
  return `F-${createHash('sha256').update(key).digest('hex').slice(0, 24)}`;
}

/** Who a claim's flag is about: its hospital, doctor and patient. */
export const partiesOf = (claim: DraftClaim): Pick<Flag, 'hospitalId' | 'doctorId' | 'insuredId'> => ({
  hospitalId: claim.hospital.hospitalId,
  doctorId: claim.doctorId,
  insuredId: claim.patient.insuredId,
});

/** A flag's basis as the rule file gives it: class, code and, where the file has one, the text. */
export const ruleBasis = (file: Pick<RuleFile, 'basis'>): Flag['basis'] => ({
  ruleClass: file.basis.ruleClass,
  code: file.basis.code,
  ...(file.basis.text ? { text: file.basis.text } : {}),
});

/** Pre-event drafts may have no claimId; their flags are keyed by the visit instead. */
export const claimKey = (claim: DraftClaim): string => claim.claimId ?? `draft:${claim.visit.visitId}`;

const MEMO_LIMIT = 50_000;

function encode(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return `s${value}`;
    case 'number':
      return `n${value}`;
    case 'boolean':
      return value ? 't' : 'f';
    case 'undefined':
      return 'u';
    default:
      return value === null ? 'z' : `j${JSON.stringify(value)}`;
  }
}

/** A suspicious flag holds a line for review, never rejects it: only a violation the text supports does. */
export function actionFor(ruleAction: Action, result: RuleResultKind): Action {
  return result === 'suspicious' && ruleAction === 'reject' ? 'hold' : ruleAction;
}

/**
 * The rules core: a pure function of (rule set, catalogue, claim) → flags and a decision. It knows
 * nothing of DynamoDB, SQS or HTTP; the CLI, the Lambdas and the local stack all call it.
 */
export class Screener {
  readonly #ruleSet: RuleSet;
  readonly #catalogue: CatalogueLookup;

  constructor(ruleSet: RuleSet, catalogue: CatalogueLookup) {
    this.#ruleSet = ruleSet;
    this.#catalogue = catalogue;
  }

  get ruleSet(): RuleSet {
    return this.#ruleSet;
  }

  async screen(claim: DraftClaim, options: ScreenOptions): Promise<Screening> {
    const { flags, suggestions } = await this.#judge(claim, options);
    return { flags, decision: decide(claimKey(claim), claim, flags, this.#ruleSet.version), suggestions };
  }

  /** The flags alone, for a stage that decides no lines on them (post-event). */
  async flagsOf(claim: DraftClaim, options: ScreenOptions): Promise<Flag[]> {
    return (await this.#judge(claim, options)).flags;
  }

  async #judge(claim: DraftClaim, options: ScreenOptions): Promise<Omit<Screening, 'decision'>> {
    const { stage } = options;
    const memo = options.memo ?? true;
    const createdAt = (options.now ?? new Date()).toISOString();
    const claimId = claimKey(claim);
    const [claimDate, lastDate] = serviceSpan(claim);
    const context = new ClaimContext(claim, this.#catalogue, options.history ?? []);
    const flags: Flag[] = [];
    const suggestions: Record<string, string> = {};
    const budgetMs = options.budgetMs ?? SCREEN_BUDGET_MS;
    const deadline = performance.now() + budgetMs;
    let judged = 0;

    let ruleNo = 0;
    for (const rule of this.#ruleSet.forStage(stage)) {
      const { file, kind } = rule;
      // The clock every few rules, as for subjects: reading it per rule was ~2% of a post-event audit.
      if (ruleNo++ % BUDGET_CHECK_EVERY_RULES === 0 && performance.now() >= deadline)
        throw new ScreenBudgetError(budgetMs, claim.items.length, file.id);
      // Period kinds judge a period's claims, in the post-event stage, not one claim.
      if (kind.scope === 'period') continue;
      // A rule applies by service date: skip it when no line of the claim falls in its effective span…
      const { from, to } = file.effective;
      if (lastDate < from || (to && claimDate > to)) continue;
      if (file.when.visitTypes && !file.when.visitTypes.includes(claim.visit.type)) continue;
      const { ofClaim, ofSubject } = rule.requires;
      if (ofClaim.length && !present(ofClaim, context.claimFacts(claimDate, file.params))) continue;

      for (const subject of context.subjects(kind, file.when.ruleClass)) {
        // …and judges only the subjects served within it.
        if (subject.date < from || (to && subject.date > to)) continue;
        if (++judged % BUDGET_CHECK_EVERY === 0 && performance.now() >= deadline)
          throw new ScreenBudgetError(budgetMs, claim.items.length, file.id);
        if (file.when.categories && (!subject.category || !file.when.categories.includes(subject.category)))
          continue;
        const kp = file.when.ruleClass ? subject.points?.get(file.when.ruleClass) : undefined;
        if (file.when.ruleClass && !kp) continue;

        const facts = {
          subject: subject.fact,
          restriction: kp?.restriction ?? null,
          patient: context.patientOn(subject.date),
          hospital: context.hospital,
          visit: context.visit,
          params: file.params,
        };
        if (ofSubject.length && !present(ofSubject, facts)) continue;
        const hit = evaluate(rule, facts, memo);
        // A memoised outcome is a plain boolean: no await, so no microtask per subject.
        if (!(typeof hit === 'boolean' ? hit : await hit)) continue;

        const ruleAction = file.action[stage];
        if (!ruleAction) continue;
        // A knowledge point or reference entry the source leaves in doubt grades the flag suspicious.
        const doubt = kp ? kp.grade?.reason : subject.reference?.doubt;
        const result = doubt ? 'suspicious' : file.result;
        const action = actionFor(ruleAction, result);
        const { lineNos, amountAtRisk } = exposureOf(subject, file.atRisk, facts);
        const flagId = flagIdFor(
          { claimId, hospitalId: claim.hospital.hospitalId },
          file.id,
          file.version,
          lineNos,
        );
        // Kept with its exemption, never dropped: auditors and backtests see what was exempted.
        const exemption = rule.exemptions.length
          ? exemptionFor(rule.exemptions, claim, lineNos, subject.date)
          : undefined;
        const suggestion = kind.suggest?.(subject, facts);
        if (suggestion) suggestions[flagId] = suggestion;
        flags.push({
          flagId,
          claimId,
          lineNos,
          ruleId: file.id,
          ruleVersion: file.version,
          stage,
          severity: file.severity,
          result,
          action,
          amountAtRisk,
          ...partiesOf(claim),
          message: renderMessage(file.message, facts),
          basis: {
            ...ruleBasis(file),
            // The knowledge point's or the reference entry's own words, where the subject has them.
            ...(kp
              ? { knowledgePoint: kp.kpId, text: kp.text }
              : subject.reference
                ? { text: subject.reference.source }
                : {}),
            ...(doubt ? { doubt } : {}),
          },
          status: exemption ? 'exempted' : 'open',
          ...(exemption ? { exemptionId: exemption.id } : {}),
          ruleSetVersion: this.#ruleSet.version,
          createdAt,
        });
      }
    }
    return { flags, suggestions };
  }
}

/** What a memoised evaluation needs of a compiled rule, claim or period. */
export type MemoisedRule = Pick<CompiledRule, 'engine' | 'reads' | 'memo'>;

/**
 * Whether the rule's conditions hold for these facts, memoised on the values the conditions read.
 * A memoised outcome comes back as a plain boolean, so the common case costs no microtask.
 */
export function evaluate(
  rule: MemoisedRule,
  facts: Record<string, unknown>,
  memo = true,
): boolean | Promise<boolean> {
  let key = '';
  if (memo) {
    for (const read of rule.reads) key += `${encode(readPath(facts[read.fact], read.keys))}\u0001`;
    const known = rule.memo.get(key);
    if (known !== undefined) return known;
  }
  return run(rule, facts, memo ? key : undefined);
}

/** Whether every fact a rule's `when.requires` names is there (not null or missing). */
function present(
  reads: readonly { fact: string; keys: string[] }[],
  facts: Record<string, unknown>,
): boolean {
  for (const read of reads) if (readPath(facts[read.fact], read.keys) == null) return false;
  return true;
}

async function run(
  rule: MemoisedRule,
  facts: Record<string, unknown>,
  key: string | undefined,
): Promise<boolean> {
  const { events } = await rule.engine.run(facts);
  const hit = events.length > 0;
  if (key !== undefined) {
    if (rule.memo.size >= MEMO_LIMIT) rule.memo.clear();
    rule.memo.set(key, hit);
  }
  return hit;
}

/** Facts shared by every rule run on one claim, derived once. */
class ClaimContext {
  readonly hospital: HospitalFact;
  readonly visit: VisitFact;
  readonly #claim: DraftClaim;
  readonly #catalogue: CatalogueLookup;
  readonly #history: readonly HistoryClaim[];
  /** Subjects by kind, then by rule class ('' for none): no key string built per rule. */
  readonly #subjects = new Map<ClaimSubjectKind, Map<string, Subject[]>>();
  readonly #patients = new Map<string, PatientFact>();
  readonly #groups: ReadonlySet<string>;

  constructor(claim: DraftClaim, catalogue: CatalogueLookup, history: readonly HistoryClaim[]) {
    this.#claim = claim;
    this.#catalogue = catalogue;
    this.#history = history;
    this.hospital = { level: claim.hospital.level, internet: claim.hospital.internet };
    const { type, admittedAt, dischargedAt } = claim.visit;
    this.#groups = catalogue.diagnosisGroupsOf(claim.diagnoses.map((d) => d.code));
    this.visit = {
      type,
      maternityDiagnosis: this.#groups.has('maternity'),
      admittedAt: admittedAt ?? null,
      dischargedAt: dischargedAt ?? null,
      stayDays: admittedAt && dischargedAt ? epochDay(dischargedAt) - epochDay(admittedAt) + 1 : null,
    };
  }

  /** The patient as of `date`: age is taken on the service date, not today. */
  patientOn(date: string): PatientFact {
    let patient = this.#patients.get(date);
    if (!patient) {
      const p = this.#claim.patient;
      patient = {
        sex: p.sex,
        // 性别不清、两性畸形、染色体异常、性发育异常人群不纳入此规则范畴 (NHSA note to the sex rules).
        sexIndeterminate: this.#groups.has('indeterminateSex'),
        insuranceType: p.insuranceType,
        ageYears: ageInYears(p.birthDate, date),
        ageDays: epochDay(date) - epochDay(p.birthDate),
        deathDate: p.deathDate ?? null,
      };
      this.#patients.set(date, patient);
    }
    return patient;
  }

  /** Facts that do not depend on the subject, for `when.requires` checked once per rule. */
  claimFacts(date: string, params: Record<string, unknown>): Record<string, unknown> {
    return { patient: this.patientOn(date), hospital: this.hospital, visit: this.visit, params };
  }

  /**
   * The kind's subjects for a rule of `ruleClass`. A kind that requires a class builds from that
   * class's points; any other kind builds once per claim, and a rule naming a class judges only
   * the subjects carrying a point of it (most claims have none).
   */
  subjects(kind: ClaimSubjectKind, ruleClass: string | undefined): Subject[] {
    const byClass = kind.ruleClass === 'required';
    const key = ruleClass ?? '';
    let ofKind = this.#subjects.get(kind);
    if (!ofKind) {
      ofKind = new Map();
      this.#subjects.set(kind, ofKind);
    }
    let list = ofKind.get(key);
    if (!list) {
      list =
        ruleClass && !byClass
          ? this.subjects(kind, undefined).filter((s) => s.points?.has(ruleClass))
          : kind.build({
              claim: this.#claim,
              catalogue: this.#catalogue,
              history: kind.history ? this.#history : [],
              ruleClass: ruleClass ?? '',
            });
      ofKind.set(key, list);
    }
    return list;
  }
}

/** A line's action at each rank of `actionRank`: alerts and flags let it pass. */
const LINE_ACTIONS: readonly LineAction[] = ['pass', 'hold', 'reject'];

/**
 * Each line takes the strongest action of its flags; the claim takes the strongest of its lines.
 * A flag that names no line judges the claim itself (a diagnosis that does not fit the patient, a
 * procedure code of the other sex, totals that are not the sum of the lines): every line was
 * billed under it, so it acts on every line — a claim-level violation rejects the whole claim, a
 * suspicious one holds it (docs/in-process.md).
 */
export function decide(
  claimId: string,
  claim: DraftClaim,
  flags: readonly Flag[],
  ruleSetVersion: string,
): Decision {
  const lines = new Map(claim.items.map((i) => [i.lineNo, { rank: 0, ruleIds: [] as string[] }]));
  const every = [...lines.keys()];
  for (const flag of flags) {
    // An exempted hit is on record but holds and rejects nothing.
    if (flag.status === 'exempted') continue;
    for (const lineNo of flag.lineNos.length ? flag.lineNos : every) {
      const line = lines.get(lineNo);
      if (!line) continue;
      line.ruleIds.push(flag.ruleId);
      line.rank = Math.max(line.rank, actionRank(flag.action));
    }
  }
  const list = [...lines].map(([lineNo, { rank, ruleIds }]) => ({
    lineNo,
    action: LINE_ACTIONS[rank] ?? 'reject',
    ruleIds,
  }));
  const outcome = LINE_ACTIONS[Math.max(0, ...[...lines.values()].map((l) => l.rank))] ?? 'reject';
  return { claimId, outcome, lines: list, ruleSetVersion };
}
