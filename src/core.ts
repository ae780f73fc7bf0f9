import { join } from 'node:path';
import { type Catalogue, loadCatalogue } from './catalogue/index.ts';
import { defaultRulesDir, loadRuleSet } from './rules/load.ts';
import type { RuleSet } from './rules/rule-set.ts';
import { Screener } from './rules/screen.ts';

export interface Core {
  ruleSet: RuleSet;
  catalogue: Catalogue;
  screener: Screener;
}

/**
 * Load the catalogue and the rule set from a rules directory and build the screener. Done once per
 * process (cold start); a rule set that fails validation throws, so it is never activated.
 */
export function loadCore(rulesDir: string = defaultRulesDir()): Core {
  const catalogue = loadCatalogue(join(rulesDir, 'catalogue'));
  const ruleSet = loadRuleSet(rulesDir, new Set(catalogue.ruleClassesWithPoints()));
  return { ruleSet, catalogue, screener: new Screener(ruleSet, catalogue) };
}
