import { z } from 'zod';
import { FACT_NAMES, RuleFile } from '../contracts/rule.ts';
import { factPaths, linePaths } from './facts.ts';
import { OPERATORS } from './rule-set.ts';
import type { SubjectKind } from './subjects/kind.ts';
import { SUBJECT_KINDS } from './subjects/registry.ts';

type Json = Record<string, unknown>;

const dollar = (paths: Iterable<string>): string[] => [...paths].map((p) => `$.${p}`).sort();

/**
 * A fact read for a rule of `kind`: the fact and, except for `params` (the rule's own names), the
 * paths the kind offers, so an editor completes `subject` paths and underlines a typo.
 */
function factReads(kind: SubjectKind): Json[] {
  const paths = factPaths(kind, {});
  return FACT_NAMES.map((fact) => ({
    type: 'object',
    properties: {
      fact: { const: fact },
      path:
        fact === 'params'
          ? { type: 'string', pattern: '^\\$\\.[A-Za-z_]\\w*$' }
          : { enum: dollar(paths[fact]) },
    },
    required: ['fact'],
  }));
}

/** `$defs` and the `if subject = kind then …` clause that checks a rule of `kind`. */
function kindClause(kind: SubjectKind, defs: Json): Json {
  const condition = `condition-${kind.name}`;
  const ref = (name: string): Json => ({ $ref: `#/$defs/${name}` });
  const group = (key: string, items: Json): Json => ({
    type: 'object',
    properties: { [key]: key === 'not' ? items : { type: 'array', minItems: 1, items } },
    required: [key],
    additionalProperties: false,
  });
  const reads = factReads(kind);
  defs[condition] = {
    anyOf: [
      group('all', ref(condition)),
      group('any', ref(condition)),
      group('not', ref(condition)),
      ...reads.map((read) => ({
        type: 'object',
        properties: {
          ...(read.properties as Json),
          operator: { enum: [...OPERATORS] },
          value: {
            anyOf: [
              { type: ['string', 'number', 'boolean', 'null'] },
              { type: 'array', items: { type: ['string', 'number'] } },
              { anyOf: reads.map((r) => ({ ...r, additionalProperties: false })) },
            ],
          },
        },
        required: ['fact', 'operator', 'value'],
        additionalProperties: false,
      })),
    ],
  };
  const paths = factPaths(kind, {});
  const requires = FACT_NAMES.flatMap((fact) => [...paths[fact]].map((p) => `${fact}.${p}`)).sort();
  const lines = { enum: dollar(linePaths(kind)) };
  return {
    if: { properties: { subject: { const: kind.name } }, required: ['subject'] },
    // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then keyword; the object is never awaited.
    then: {
      properties: {
        scope: { const: kind.scope },
        conditions: {
          anyOf: [group('all', ref(condition)), group('any', ref(condition)), group('not', ref(condition))],
        },
        when: { properties: { requires: { items: { enum: requires } } } },
        atRisk: {
          properties: { only: { properties: { path: lines } }, beyond: { properties: { path: lines } } },
        },
      },
      ...(kind.history ? { required: ['historyDays'] } : {}),
    },
  };
}

/** Every condition leaf of the base schema names a known fact and operator. */
function enumerateLeaves(node: unknown): void {
  if (!node || typeof node !== 'object') return;
  if (Array.isArray(node)) {
    for (const child of node) enumerateLeaves(child);
    return;
  }
  const n = node as Json;
  const props = n.properties as Json | undefined;
  if (props?.fact && props.operator) {
    props.fact = { type: 'string', enum: [...FACT_NAMES] };
    props.operator = { type: 'string', enum: [...OPERATORS] };
  }
  for (const child of Object.values(n)) enumerateLeaves(child);
}

/**
 * The JSON Schema editors use for rule files (`"$schema": "./schema/rule.schema.json"`), derived
 * from the zod schema and the subject kinds' fact schemas so none can drift; a test compares it
 * with the committed file. Per subject kind it enumerates the fact paths conditions, `when.requires`
 * and `atRisk` may use.
 */
export function ruleJsonSchema(): string {
  const schema = z.toJSONSchema(RuleFile, { io: 'input', unrepresentable: 'any' }) as Json;
  enumerateLeaves(schema);
  const properties = schema.properties as Json;
  // Period kinds have their own rule files (rules/period/), which this schema does not describe.
  const kinds = [...SUBJECT_KINDS.values()].filter((kind) => kind.scope !== 'period');
  properties.subject = { ...(properties.subject as Json), enum: kinds.map((kind) => kind.name) };
  const defs = (schema.$defs ?? {}) as Json;
  const clauses = kinds.map((kind) => kindClause(kind, defs));
  return `${JSON.stringify({ ...schema, $defs: defs, allOf: clauses, title: 'FundGuard rule file' }, null, 2)}\n`;
}
