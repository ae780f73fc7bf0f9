import { z } from 'zod';
import { RuleFile } from '../contracts/rule.ts';

/**
 * The JSON Schema editors use for rule files (`"$schema": "./schema/rule.schema.json"`), derived
 * from the zod schema so the two cannot drift; a test compares it with the committed file.
 */
export function ruleJsonSchema(): string {
  const schema = z.toJSONSchema(RuleFile, { io: 'input', unrepresentable: 'any' });
  return `${JSON.stringify({ ...schema, title: 'FundGuard rule file' }, null, 2)}\n`;
}
