import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError, InProcessEnv, parseEnvironment, rulesDirFromEnvironment } from '../../src/config.ts';
import { Claim, DraftClaim } from '../../src/contracts/claim.ts';
import {
  CONTRACTS_DOC,
  contractsDocument,
  DOCUMENTED_SCHEMAS,
  type DocumentedSchema,
  EXAMPLE_MARKER,
} from '../../src/contracts/document.ts';
import { FLAG_STATUSES, Flag } from '../../src/contracts/flag.ts';
import { ContractError, parseContract, parseJsonContract } from '../../src/contracts/issues.ts';
import { TRANSITIONS } from '../../src/review/machine.ts';
import { rawClaim as base } from '../helpers/claims.ts';

function problemsOf(input: unknown, schema: typeof Claim | typeof DraftClaim = Claim): string[] {
  try {
    parseContract(schema, 'claim', input);
  } catch (error) {
    if (error instanceof ContractError) return error.problems;
    throw error;
  }
  return [];
}

describe('Claim v1', () => {
  it('accepts the example claim of the design', () => {
    expect(problemsOf(base())).toEqual([]);
  });

  it('names the path and both types when a quantity is a string', () => {
    const claim = base();
    claim.items.push({ ...claim.items[0], lineNo: 2 }, { ...claim.items[0], lineNo: 3, quantity: '60' });
    expect(problemsOf(claim)).toEqual(['items[2].quantity: expected number, got string']);
  });

  it('rejects unknown fields instead of ignoring them', () => {
    const claim = base();
    claim.patient.nickname = 'x';
    claim.extra = 1;
    expect(problemsOf(claim)).toEqual(
      expect.arrayContaining(['patient.nickname: unknown field', 'extra: unknown field']),
    );
  });

  it('reports a missing required field as missing', () => {
    const claim = base();
    delete claim.doctorId;
    expect(problemsOf(claim)).toEqual(['doctorId: required string is missing']);
  });

  it('lists the allowed values of an enum', () => {
    const claim = base();
    claim.patient.sex = 'X';
    expect(problemsOf(claim)).toEqual(['patient.sex: expected one of "M", "F", got "X"']);
  });

  it('rejects impossible dates and amounts with more than two decimals', () => {
    const claim = base();
    claim.items[0].serviceDate = '2026-02-30';
    claim.items[0].amount = 21.005;
    expect(problemsOf(claim)).toEqual([
      'items[0].amount: expected yuan with at most two decimals',
      'items[0].serviceDate: not a real calendar date',
    ]);
  });

  it('checks the code shape of the item category', () => {
    const claim = base();
    claim.items[0].category = 'service';
    expect(problemsOf(claim)[0]).toMatch(/^items\[0\]\.code: expected a 15-digit service item code/);
  });

  it('requires admission and discharge dates for a settled inpatient stay only', () => {
    const inpatient = base();
    inpatient.visit.type = 'inpatient';
    expect(problemsOf(inpatient)).toEqual([
      'visit.admittedAt: required for an inpatient stay',
      'visit.dischargedAt: required for a settled inpatient stay',
    ]);
    const outpatient = base();
    outpatient.visit.admittedAt = '2026-10-01';
    expect(problemsOf(outpatient)).toEqual([
      'visit.admittedAt: only for inpatient stays, visit type is outpatient',
    ]);
  });

  it('rejects duplicate line numbers', () => {
    const claim = base();
    claim.items.push({ ...claim.items[0] });
    expect(problemsOf(claim)).toEqual(['items[1].lineNo: duplicate lineNo 1']);
  });

  it('refuses a key past what DynamoDB stores, naming the field and the limit in bytes', () => {
    const issues = (claim: unknown) =>
      (Claim.safeParse(claim).error?.issues ?? []).map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(issues({ ...base(), claimId: `C-${'x'.repeat(1_100)}` })).toEqual([
      expect.stringMatching(/^claimId: at most 1013 bytes in UTF-8, got 1102: .*sort key.*1,024 bytes/),
    ]);
    // Counted in UTF-8 bytes, not characters: 700 Chinese characters are 2,100 bytes.
    expect(issues({ ...base(), patient: { ...base().patient, insuredId: '医'.repeat(700) } })).toEqual([
      expect.stringMatching(/^patient\.insuredId: at most 2048 bytes in UTF-8, got 2100: /),
    ]);
    expect(issues({ ...base(), claimId: `C-${'x'.repeat(1_011)}` })).toEqual([]);
  });

  it('refuses a claim too large to store or with more lines, diagnoses or procedures than a claim may have', () => {
    const claim = base();
    const lines = Array.from({ length: 2_001 }, (_, i) => ({ ...claim.items[0], lineNo: i + 1 }));
    expect(Claim.safeParse({ ...claim, items: lines }).error?.issues.map((i) => i.message)).toContain(
      'at most 2000 lines in one claim',
    );
    const procedures = Array.from({ length: 101 }, () => ({
      code: '60.5x00',
      primary: false,
      date: '2026-10-03',
    }));
    expect(problemsOf({ ...claim, procedures })).toEqual(['procedures: at most 100 procedures in one claim']);
    const diagnoses = Array.from({ length: 101 }, () => ({ code: 'E11.900', primary: false }));
    expect(problemsOf({ ...claim, diagnoses })).toEqual(['diagnoses: at most 100 diagnoses in one claim']);
    const padded = { ...claim, items: [{ ...claim.items[0], name: '药'.repeat(100_000) }] };
    expect(Claim.safeParse(padded).error?.issues.map((i) => i.message)).toEqual([
      expect.stringMatching(/^the claim is 3\d{5} bytes as JSON; at most 262144 \(256 KiB\)/),
    ]);
  });

  it('lets a pre-event draft omit claimId, submittedAt, totals and the discharge date', () => {
    const draft = base();
    delete draft.claimId;
    delete draft.submittedAt;
    delete draft.totals;
    draft.visit = { ...draft.visit, type: 'inpatient', admittedAt: '2026-10-01' };
    expect(problemsOf(draft, DraftClaim)).toEqual([]);
    expect(problemsOf(draft)).toEqual([
      'claimId: required string is missing',
      'submittedAt: required string is missing',
      'totals: required object is missing',
    ]);
  });
});

describe('Flag', () => {
  it('accepts the flag of the design', () => {
    const flag = {
      flagId: 'F-1',
      claimId: 'C-2026-000001',
      lineNos: [1],
      ruleId: 'GZ-DRUG-SEX',
      ruleVersion: 3,
      stage: 'in',
      severity: 'high',
      result: 'violation',
      action: 'reject',
      amountAtRisk: 21.0,
      hospitalId: 'H-TJ-001',
      doctorId: 'D-0042',
      insuredId: 'P-0001',
      message: '阿帕他胺片 is restricted to male patients; patient is F',
      basis: { ruleClass: '药品区分性别使用', code: 'GZ10000301004000', knowledgePoint: 'KP-1', text: '限…' },
      status: 'open',
      ruleSetVersion: 'rs-3f9c2a61d0b4',
      createdAt: '2026-10-03T09:12:00Z',
    };
    expect(Flag.parse(flag)).toEqual(flag);
    expect(() => parseContract(Flag, 'flag', { ...flag, action: 'block' })).toThrow(
      /action: expected one of/,
    );
  });
});

describe('docs/contracts.md', () => {
  const committed = readFileSync(CONTRACTS_DOC, 'utf8');

  it('is what npm run docs:contracts generates from the schemas now', () => {
    expect(committed).toBe(contractsDocument());
  });

  it('shows an example of every contract, each accepted by its schema', () => {
    const examples = [...committed.matchAll(EXAMPLE_MARKER)].map(([, name, json]) => ({ name, json }));
    expect(new Set(examples.map((e) => e.name))).toEqual(new Set(Object.keys(DOCUMENTED_SCHEMAS)));
    for (const { name, json } of examples) {
      const schema = DOCUMENTED_SCHEMAS[name as DocumentedSchema];
      expect(() => parseJsonContract(schema, `${name} example`, json ?? '')).not.toThrow();
    }
  });

  it('would show a broken example for what it is: the schema names the path', () => {
    const [, , json] = [...committed.matchAll(EXAMPLE_MARKER)].find(([, name]) => name === 'Flag') ?? [];
    const broken = (json ?? '').replace('"severity": "high"', '"severity": "severe"');
    expect(() => parseJsonContract(Flag, 'Flag example', broken)).toThrow(/severity: expected one of/);
  });

  it('describes every review state the contract holds as reachable, investigating included', () => {
    const states = committed.slice(committed.indexOf('## Review states'), committed.indexOf('## Rule file'));
    for (const [action, t] of Object.entries(TRANSITIONS)) {
      expect(states).toContain(
        `| \`${action}\` | ${t.from.map((s) => `\`${s}\``).join(', ')} | \`${t.to}\` |`,
      );
    }
    for (const status of FLAG_STATUSES.filter((s) => s !== 'open'))
      expect(Object.values(TRANSITIONS).some((t) => t.to === status)).toBe(true);
  });

  it('links nothing outside the repository', () => {
    expect(committed).not.toMatch(/\.\.\/shared|\/work\//);
  });
});

describe('configuration (src/config.ts)', () => {
  const inProcess = {
    CLAIMS_TABLE: 'fundguard-dev-claims',
    DECISIONS_TABLE: 'fundguard-dev-decisions',
    FLAGS_TABLE: 'fundguard-dev-flags',
    SCORES_TABLE: 'fundguard-dev-scores',
    IDEMPOTENCY_TABLE: 'fundguard-dev-idempotency',
    ALERTS_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/fundguard-dev-alerts',
    RULE_SETS_TABLE: 'fundguard-dev-rule-sets',
  };

  it('reads the in-process function’s environment, the rules directory optional, the rule set check every 30 s by default', () => {
    const parsed = { ...inProcess, RULE_SET_CHECK_SECONDS: 30 };
    expect(parseEnvironment(InProcessEnv, inProcess)).toEqual(parsed);
    expect(parseEnvironment(InProcessEnv, { ...inProcess, FUNDGUARD_RULES_DIR: '/var/task/rules' })).toEqual({
      ...parsed,
      FUNDGUARD_RULES_DIR: '/var/task/rules',
    });
    expect(parseEnvironment(InProcessEnv, { ...inProcess, RULE_SET_CHECK_SECONDS: '5' })).toEqual({
      ...inProcess,
      RULE_SET_CHECK_SECONDS: 5,
    });
    expect(() => parseEnvironment(InProcessEnv, { ...inProcess, RULE_SET_CHECK_SECONDS: 'soon' })).toThrow(
      /RULE_SET_CHECK_SECONDS/,
    );
  });

  it('names every missing or invalid variable at once', () => {
    const { FLAGS_TABLE: _flags, ...missing } = inProcess;
    const parse = () => parseEnvironment(InProcessEnv, { ...missing, ALERTS_QUEUE_URL: 'alerts' });
    expect(parse).toThrow(ConfigError);
    expect(parse).toThrow(/FLAGS_TABLE: required string is missing.*ALERTS_QUEUE_URL/);
  });

  it('takes the rules directory from FUNDGUARD_RULES_DIR, and refuses an empty one', () => {
    expect(rulesDirFromEnvironment({})).toBeUndefined();
    expect(rulesDirFromEnvironment({ FUNDGUARD_RULES_DIR: '/var/task/rules' })).toBe('/var/task/rules');
    expect(() => rulesDirFromEnvironment({ FUNDGUARD_RULES_DIR: '' })).toThrow(/FUNDGUARD_RULES_DIR/);
  });
});
