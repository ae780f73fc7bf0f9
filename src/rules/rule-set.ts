import { createHash } from 'node:crypto';
import { Engine } from 'json-rules-engine';
import type { Exemption } from '../contracts/exemption.ts';
import type { Stage } from '../contracts/flag.ts';
import type { ConditionTree, RuleFile } from '../contracts/rule.ts';
import { plainPathResolver, splitPath } from './paths.ts';
import type { SubjectKind } from './subjects/kind.ts';
import { SUBJECT_KINDS } from './subjects/registry.ts';

/** A (fact, path) a rule's conditions read; together they decide the outcome. */
export interface FactRead {
  fact: string;
  keys: string[];
}

/** One rule file made ready to run: its json-rules-engine Engine, built once and reused. */
export interface CompiledRule {
  readonly file: RuleFile;
  readonly source: string;
  /** The subject kind the rule names, from the registry. */
  readonly kind: SubjectKind;
  /** `when.requires`, split into facts known per claim and facts known per subject. */
  readonly requires: { readonly ofClaim: readonly FactRead[]; readonly ofSubject: readonly FactRead[] };
  readonly engine: Engine;
  readonly reads: readonly FactRead[];
  /** Outcomes by the values the conditions read (see `RuleSet` on why this is sound). */
  readonly memo: Map<string, boolean>;
  /** Approved exemptions from this rule (rules/exemptions/); a covered hit is flagged `exempted`. */
  readonly exemptions: readonly Exemption[];
}

/** Every (fact, path) a condition tree reads, its `value: {fact, path}` references included. */
export function collectReads(node: unknown, out: FactRead[]): FactRead[] {
  if (!node || typeof node !== 'object') return out;
  const n = node as Record<string, unknown>;
  for (const key of ['all', 'any'] as const) {
    const list = n[key];
    if (Array.isArray(list)) for (const child of list) collectReads(child, out);
  }
  if (n.not) collectReads(n.not, out);
  if (typeof n.fact === 'string') {
    out.push({ fact: n.fact, keys: splitPath(n.path as string | undefined) });
    const value = n.value as Record<string, unknown> | null;
    if (value && typeof value === 'object' && !Array.isArray(value) && typeof value.fact === 'string') {
      out.push({ fact: value.fact, keys: splitPath(value.path as string | undefined) });
    }
  }
  return out;
}

/** The distinct reads of a condition tree: what a rule's memo key is made of. */
export function distinctReads(conditions: unknown): FactRead[] {
  const reads = collectReads(conditions, []);
  return [...new Map(reads.map((r) => [`${r.fact}.${r.keys.join('.')}`, r])).values()];
}

/** Every operator a rule may use; json-rules-engine's defaults, nothing custom yet. */
export const OPERATORS = [
  'equal',
  'notEqual',
  'in',
  'notIn',
  'contains',
  'doesNotContain',
  'lessThan',
  'lessThanInclusive',
  'greaterThan',
  'greaterThanInclusive',
] as const;

export function newEngine(conditions: ConditionTree, id: string, jsonPath = false): Engine {
  // allowUndefinedFacts false: a rule asking for a fact the core does not provide fails loudly.
  const engine = new Engine([], {
    allowUndefinedFacts: false,
    ...(jsonPath ? {} : { pathResolver: plainPathResolver }),
  });
  engine.addRule({ name: id, conditions: conditions as never, event: { type: id } });
  return engine;
}

/** Facts that differ from one subject to the next; the others are known once per claim. */
const SUBJECT_FACTS = new Set(['subject', 'restriction']);

function compile(
  file: RuleFile,
  source: string,
  jsonPath: boolean,
  exemptions: readonly Exemption[],
): CompiledRule {
  const kind = SUBJECT_KINDS.get(file.subject);
  if (!kind) throw new Error(`${source}: subject: unknown subject kind "${file.subject}"`);
  const required = (file.when.requires ?? []).map((path) => {
    const [fact = '', ...keys] = path.split('.');
    return { fact, keys };
  });
  const engine = newEngine(file.conditions, file.id, jsonPath);
  return {
    file,
    source,
    kind,
    requires: {
      ofClaim: required.filter((r) => !SUBJECT_FACTS.has(r.fact)),
      ofSubject: required.filter((r) => SUBJECT_FACTS.has(r.fact)),
    },
    engine,
    reads: distinctReads(file.conditions),
    memo: new Map(),
    exemptions,
  };
}

export interface RuleSetOptions {
  /** json-rules-engine's default JSONPath resolver instead of plain paths; the benchmark's naive baseline. */
  jsonPath?: boolean;
  /** The rule set version flags carry: the content hash of rules, exemptions and catalogue (see `contentVersion`). */
  version?: string;
  /** Exemptions by rule id. */
  exemptions?: ReadonlyMap<string, readonly Exemption[]>;
}

/**
 * A validated, compiled set of rules. Conditions are pure functions of the facts they read, so
 * each rule's outcome is memoised on those values: the engine runs once per distinct combination
 * (a female-only drug for a male patient), not once per line. `version` names the set on its flags.
 */
export class RuleSet {
  readonly rules: readonly CompiledRule[];
  readonly version: string;
  readonly #byStage = new Map<Stage, CompiledRule[]>();

  constructor(files: readonly { file: RuleFile; source: string }[], options: RuleSetOptions = {}) {
    this.rules = files.map(({ file, source }) =>
      compile(file, source, options.jsonPath ?? false, options.exemptions?.get(file.id) ?? []),
    );
    this.version = options.version ?? filesDigest(files);
  }

  forStage(stage: Stage): CompiledRule[] {
    let rules = this.#byStage.get(stage);
    if (!rules) {
      rules = this.rules.filter((r) => r.file.stages.includes(stage));
      this.#byStage.set(stage, rules);
    }
    return rules;
  }

  /** How many days of a patient's history the stage's rules need (0: none). */
  historyDays(stage: Stage): number {
    return Math.max(0, ...this.forStage(stage).map((r) => r.file.historyDays ?? 0));
  }

  rule(id: string): CompiledRule | undefined {
    return this.rules.find((r) => r.file.id === id);
  }
}

/** A digest of the rule files alone, for a set built without its catalogue (tests, benchmarks). */
function filesDigest(files: readonly { file: RuleFile }[]): string {
  const digest = createHash('sha256');
  for (const { file } of [...files].sort((a, b) => a.file.id.localeCompare(b.file.id))) {
    digest.update(JSON.stringify(file));
  }
  return `files-${digest.digest('hex').slice(0, 12)}`;
}
