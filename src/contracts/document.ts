/**
 * docs/contracts.md, generated from the zod contracts: the field tables come from their JSON
 * Schema and every example is parsed by its schema here, so the document cannot drift from the
 * code. `npm run docs:contracts` writes it; a unit test fails when the committed file is stale.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { toHistoryClaim } from '../history/store.ts';
import { TRANSITIONS } from '../review/machine.ts';
import { HospitalAlertMessage } from './alert.ts';
import { Claim, DraftClaim } from './claim.ts';
import { Decision } from './decision.ts';
import { FLAG_STATUSES, Flag } from './flag.ts';
import { HistoryClaim } from './history.ts';
import { parseContract } from './issues.ts';
import { RuleFile } from './rule.ts';

const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const CONTRACTS_DOC = join(PROJECT_ROOT, 'docs', 'contracts.md');

/** The contracts whose examples the document shows, by the name its example markers use. */
export const DOCUMENTED_SCHEMAS = {
  Claim,
  DraftClaim,
  Flag,
  RuleFile,
  Decision,
  HospitalAlertMessage,
  HistoryClaim,
} as const;
export type DocumentedSchema = keyof typeof DOCUMENTED_SCHEMAS;

/** Marks the JSON block that follows as an example of a contract; the test parses each one. */
const exampleMarker = (schema: DocumentedSchema) => `<!-- example: ${schema} -->`;
export const EXAMPLE_MARKER = /<!-- example: (\w+) -->\n```json\n([\s\S]*?)\n```/g;

// ---------------------------------------------------------------------------------------------
// Examples: the design brief's, made valid (a flag's id and time are real values here)
// ---------------------------------------------------------------------------------------------

const CLAIM_EXAMPLE = {
  claimId: 'C-2026-000001',
  submittedAt: '2026-10-03T09:12:00Z',
  patient: {
    insuredId: 'P-0001',
    sex: 'F',
    birthDate: '1961-04-12',
    insuranceType: 'employee',
    deathDate: null,
  },
  hospital: { hospitalId: 'H-TJ-001', level: 3, region: '120100', internet: false },
  doctorId: 'D-0042',
  visit: {
    visitId: 'V-88',
    type: 'inpatient',
    department: 'endocrinology',
    admittedAt: '2026-09-28',
    dischargedAt: '2026-10-03',
  },
  diagnoses: [{ code: 'E11.900', primary: true }],
  procedures: [{ code: '99.1700', primary: true, date: '2026-09-28' }],
  items: [
    {
      lineNo: 1,
      code: 'XA10BAE054A001010101234',
      name: '二甲双胍片',
      category: 'drug',
      quantity: 60,
      unitPrice: 0.35,
      amount: 21.0,
      serviceDate: '2026-09-28',
      daysSupply: 30,
    },
  ],
  totals: { amount: 21.0, fundPaid: 16.8, selfPaid: 4.2 },
};

const { claimId: _claimId, submittedAt: _submittedAt, totals: _totals, ...DRAFT_EXAMPLE } = CLAIM_EXAMPLE;

const FLAG_EXAMPLE = {
  flagId: 'F-3f6c0a9e51b2d47c8e0a1b2c',
  claimId: 'C-2026-000002',
  lineNos: [1],
  ruleId: 'GZ-DRUG-SEX',
  ruleVersion: 1,
  stage: 'in',
  severity: 'high',
  result: 'violation',
  action: 'reject',
  amountAtRisk: 1260.0,
  hospitalId: 'H-TJ-001',
  doctorId: 'D-0042',
  insuredId: 'P-0001',
  message: '阿帕他胺片限男性患者使用，患者为女性',
  basis: {
    ruleClass: '药品区分性别使用',
    code: 'GZ10000301004000',
    knowledgePoint: 'KP-GZ10000301004000-0001',
    text: '限转移性激素敏感性前列腺癌(mHSPC)患者。',
  },
  status: 'open',
  ruleSetVersion: 'rs-3f9c2a61d0b4',
  createdAt: '2026-10-03T09:12:01.204Z',
};

const DECISION_EXAMPLE = {
  claimId: 'C-2026-000002',
  outcome: 'reject',
  lines: [
    { lineNo: 1, action: 'reject', ruleIds: ['GZ-DRUG-SEX'] },
    { lineNo: 2, action: 'pass', ruleIds: [] },
  ],
  ruleSetVersion: '9c1e4b2a7d3f',
};

const { flagId, ruleId, lineNos, severity, result, action, amountAtRisk, message, basis } = FLAG_EXAMPLE;
const ALERT_EXAMPLE = {
  alertId: 'C-2026-000002',
  claimId: 'C-2026-000002',
  hospitalId: 'H-TJ-001',
  doctorId: 'D-0042',
  outcome: 'reject',
  highestSeverity: 'high',
  amountAtRisk: 1260.0,
  flags: [{ flagId, ruleId, lineNos, severity, result, action, amountAtRisk, message, basis }],
};

/** The example claim as it is stored for later claims' history rules. */
const HISTORY_EXAMPLE = toHistoryClaim(Claim.parse(CLAIM_EXAMPLE));

/** A real rule file of the pack, so the example is one the linter accepts. */
const RULE_EXAMPLE_FILE = join(PROJECT_ROOT, 'rules', 'drug-sex.json');

// ---------------------------------------------------------------------------------------------
// Field tables from JSON Schema
// ---------------------------------------------------------------------------------------------

interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchema[];
  pattern?: string;
  format?: string;
  minLength?: number;
  minimum?: number;
  exclusiveMinimum?: number;
  minItems?: number;
  additionalProperties?: JsonSchema | boolean;
  propertyNames?: JsonSchema;
  $ref?: string;
}

const DATE_PATTERN = '^\\d{4}-\\d{2}-\\d{2}$';

function describeType(schema: JsonSchema): string {
  if (schema.$ref) return 'a condition (nested `all` / `any` / `not`, or `{ fact, path, operator, value }`)';
  if (schema.enum) return schema.enum.map((v) => `\`${JSON.stringify(v)}\``).join(' \\| ');
  if (schema.const !== undefined) return `\`${JSON.stringify(schema.const)}\``;
  if (schema.anyOf) {
    const nonNull = schema.anyOf.filter((s) => s.type !== 'null');
    const nullable = nonNull.length < schema.anyOf.length ? ' or `null`' : '';
    if (nonNull.every((s) => s.const !== undefined))
      return nonNull.map((s) => `\`${JSON.stringify(s.const)}\``).join(' \\| ') + nullable;
    if (nonNull.length === 1 && nonNull[0]) return describeType(nonNull[0]) + nullable;
    if (nonNull.every((s) => s.type === 'object' && s.required))
      return `one of ${nonNull.map((s) => `\`{ ${s.required?.join(', ')} }\``).join(', ')}${nullable}`;
    return `one of: ${nonNull.map(describeType).join('; ')}${nullable}`;
  }
  switch (schema.type) {
    case 'string':
      if (schema.format === 'date-time') return 'timestamp, ISO-8601 UTC';
      if (schema.pattern === DATE_PATTERN) return 'date, `YYYY-MM-DD`';
      if (schema.pattern) return `string matching \`${schema.pattern.replaceAll('|', '\\|')}\``;
      return schema.minLength ? 'non-empty string' : 'string';
    case 'integer':
      return schema.exclusiveMinimum === 0 ? 'integer > 0' : 'integer';
    case 'number':
      if (schema.exclusiveMinimum === 0) return 'number > 0';
      return schema.minimum === 0 ? 'number ≥ 0 (yuan: at most two decimals)' : 'number';
    case 'boolean':
      return 'boolean';
    case 'array': {
      const of = schema.items ? describeType(schema.items) : 'anything';
      const least = schema.minItems ? `, at least ${schema.minItems}` : '';
      return schema.items?.type === 'object' ? `array of objects${least}` : `array of ${of}${least}`;
    }
    case 'object':
      if (!schema.properties && typeof schema.additionalProperties === 'object') {
        const keys = schema.propertyNames ? describeType(schema.propertyNames) : 'string';
        return `object: ${keys} → ${describeType(schema.additionalProperties)}`;
      }
      return 'object';
    default:
      return Array.isArray(schema.type) ? schema.type.join(' or ') : 'any JSON value';
  }
}

function rows(schema: JsonSchema, prefix: string, out: string[]): void {
  const required = new Set(schema.required ?? []);
  for (const [name, field] of Object.entries(schema.properties ?? {})) {
    if (name === '$schema') continue;
    const path = `${prefix}${name}`;
    out.push(`| \`${path}\` | ${describeType(field)} | ${required.has(name) ? 'yes' : 'no'} |`);
    if (field.type === 'object' && field.properties) rows(field, `${path}.`, out);
    if (field.type === 'array' && field.items?.type === 'object') rows(field.items, `${path}[].`, out);
  }
}

/** A table of every field of a contract: path, type and whether it is required. */
export function fieldTable(schema: z.ZodType): string {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  const out = ['| field | type | required |', '| --- | --- | --- |'];
  rows(json, '', out);
  return out.join('\n');
}

/** The review workflow's transitions, from the state machine itself (src/review/machine.ts). */
function transitionTable(): string {
  const out = ['| action | from | to | who | step |', '| --- | --- | --- | --- | --- |'];
  out.push('| — | — | `open` | a stage | raised |');
  for (const [action, t] of Object.entries(TRANSITIONS))
    out.push(
      `| \`${action}\` | ${t.from.map((s) => `\`${s}\``).join(', ')} | \`${t.to}\` | ${t.by} | ${t.label} |`,
    );
  return out.join('\n');
}

function example(name: DocumentedSchema, value: unknown): string {
  // An example the schema refuses stops the generation: the document never shows one.
  parseContract(DOCUMENTED_SCHEMAS[name], `${name} example`, value);
  return `${exampleMarker(name)}\n\`\`\`json\n${JSON.stringify(value, null, 2)}\n\`\`\``;
}

// ---------------------------------------------------------------------------------------------
// The document
// ---------------------------------------------------------------------------------------------

export function contractsDocument(): string {
  const ruleExample: unknown = JSON.parse(readFileSync(RULE_EXAMPLE_FILE, 'utf8'));
  return `<!-- Generated by \`npm run docs:contracts\` from src/contracts/ (src/contracts/document.ts). Do not edit by hand: tests/unit/contracts.test.ts fails when this file is stale. -->

# FundGuard contracts

The shapes other systems and people depend on. Each is one zod schema in
[\`src/contracts/\`](../src/contracts/); the tables below are generated from those schemas and every
example is parsed by its schema, so this page is what the code accepts. Unknown fields are refused
everywhere, with an error that names the path (\`items[2].quantity: expected number, got string\`).

- [Claim v1](#claim-v1-input) — what hospitals settle and the pipeline screens
- [Flag](#flag-output) — what a rule raises
- [Review states](#review-states) — a flag's life after it is raised
- [Rule file](#rule-file) — what a rule author writes in \`rules/\`
- [Decision](#decision), [hospital alert message](#hospital-alert-message) and
  [stored history item](#stored-history-item) — the in-process stage's own messages

## Claim v1 (input)

JSON, one object per claim (NDJSON for files). Amounts are yuan (CNY) with at most two decimals.
Dates are \`YYYY-MM-DD\`, times ISO-8601 UTC.

- \`patient.sex\`: \`M\` | \`F\`. \`insuranceType\`: \`employee\` | \`resident\` | \`work-injury\` | \`maternity\`.
- \`hospital.level\`: 1 (primary), 2 (secondary), 3 (tertiary). \`internet\`: an internet hospital.
- \`visit.type\`: \`outpatient\` | \`emergency\` | \`inpatient\` | \`pharmacy\` | \`internet\`;
  \`admittedAt\` / \`dischargedAt\` for inpatient stays only.
- \`items[].category\`: \`drug\` | \`tcm-herbal\` | \`service\` | \`consumable\`. \`code\` is the NHSA code:
  drugs 20–23 characters starting with X or Z, TCM pieces \`T…\`, service items 15 digits,
  consumables \`C…\`; a code of the wrong shape for its category is refused (usually a mis-keyed line).
- Line numbers are unique within a claim, no line is served before the patient's birth, and an
  inpatient stay has \`admittedAt\` (and, once settled, \`dischargedAt\` on or after it).
- \`procedures\` (optional): the settlement list's procedures, \`[{code, primary, date}]\`, \`code\` in
  ICD-9-CM-3 as the national clinical edition writes it (\`68.4901\`, \`74.1x00\`); a claim without it
  is screened as before, and only the procedure rules read it.

${example('Claim', CLAIM_EXAMPLE)}

${fieldTable(Claim)}

**The pre-event draft** (\`POST /v1/prescreen\`, \`fundguard screen --stage pre\`) is the same shape;
\`claimId\`, \`submittedAt\` and \`totals\` may be absent:

${example('DraftClaim', DRAFT_EXAMPLE)}

## Flag (output)

One per rule and set of lines that broke it. \`fundguard screen\` prints them as NDJSON; the
in-process stage writes them to the \`flags\` table.

- \`flagId\` is derived from claim, rule, rule version and lines, so a redelivered claim never
  produces a second flag.
- \`basis.ruleClass\` is the NHSA rule class as the knowledge points spell it; \`basis.code\` the 1.0
  framework's \`GZ…\` / \`ZB…\` code where one exists, else \`NHSA2025-<seq>\`; rules with no national
  class name their own class (\`FG-…\`). \`basis.text\` is the knowledge point's own constraint text.
- \`result\`: \`violation\` (明确违规) only where the knowledge point's text supports it; where it
  leaves doubt, \`suspicious\` (可疑).
- \`action\` is what the stage does: \`alert\` (tell the doctor), \`hold\` (the line waits for review),
  \`reject\` (the line is not paid), \`flag\` (for auditors, post-event).
- \`amountAtRisk\` is what the fund would pay for the lines involved, in yuan.

${example('Flag', FLAG_EXAMPLE)}

${fieldTable(Flag)}

Post-event flags may be cross-claim (\`relatedClaimIds\`: the other claims involved, \`claimId\` the
latest) or about a hospital or a doctor (\`subject\` instead of \`claimId\`, see docs/post-event.md).
\`ruleSetVersion\` and exemptions (\`exemptionId\`) arrive with versioned publishing; the schema
refuses them until then.

## Review states

A flag's \`status\` follows the NHSA flag workflow (初审 → 复审 → 申诉 → 调查核实 → 处理). The states
the contract holds today: ${FLAG_STATUSES.map((s) => `\`${s}\``).join(', ')}.

${transitionTable()}

Every transition is kept with who, when and why, and each step has a time limit from the review
policy ([\`rules/policy/review.json\`](../rules/policy/review.json)); the workflow, roles and limits:
[docs/review.md](review.md). An \`exempted\` status for an exempted hit is not in the contract yet:
it arrives with versioned rule-set publishing.

## Rule file

One JSON file per rule in [\`rules/\`](../rules/), validated by this schema when the rule set loads
(\`npx fundguard rules lint\`); a rule set that fails validation is never activated. Editors get the
same schema as JSON Schema from \`rules/schema/rule.schema.json\` (\`npx fundguard rules schema\`).
How to write one: [docs/rules.md](rules.md).

${fieldTable(RuleFile)}

A rule of the pack (\`rules/drug-sex.json\`):

${example('RuleFile', ruleExample)}

## Decision

The in-process outcome for a claim: each line passes, is held or is rejected, and the claim takes
its strictest line. Written to the \`decisions\` table (with the hospital, the flag count and the
highest severity beside it).

${example('Decision', DECISION_EXAMPLE)}

${fieldTable(Decision)}

## Hospital alert message

What the in-process stage puts on the alerts queue for each flagged claim, once per claim
(\`alertId\` is the claim id, and sending is idempotent by it). The message attributes \`hospitalId\`
and \`severity\` (the highest) let a hospital's subscription filter them.

${example('HospitalAlertMessage', ALERT_EXAMPLE)}

${fieldTable(HospitalAlertMessage)}

## Stored history item

The part of a settled claim that later claims' history rules read, stored as JSON in the \`claims\`
table's \`history\` attribute (keys and layout: [docs/dynamodb.md](dynamodb.md)) and read back for
every batch.

${example('HistoryClaim', HISTORY_EXAMPLE)}

${fieldTable(HistoryClaim)}
`;
}
