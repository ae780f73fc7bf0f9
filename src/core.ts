import { join, relative } from 'node:path';
import { type Catalogue, parseCatalogue } from './catalogue/index.ts';
import { contentVersion, REFERENCE_DIR, type RuleSetContent, readRuleSetContent } from './rules/content.ts';
import { parseExemptions } from './rules/exemptions.ts';
import { defaultRulesDir, parseRuleFiles } from './rules/load.ts';
import { RuleSet } from './rules/rule-set.ts';
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
  return coreFromContent(readRuleSetContent(rulesDir), relative(process.cwd(), rulesDir));
}

/**
 * Validate rule set content and build the screener; `where` prefixes file names in errors (a
 * directory, or a published version). The rule set is named by its content hash.
 *
 * @throws RuleSetError or CatalogueLoadError naming each file and problem.
 */
export function coreFromContent(content: RuleSetContent, where: string): Core {
  const catalogue = parseCatalogue(
    content.catalogue,
    join(where, 'catalogue'),
    content.reference,
    join(where, REFERENCE_DIR),
  );
  const files = parseRuleFiles(
    Object.entries(content.rules).map(([name, text]) => ({ source: join(where, name), text })),
    new Set(catalogue.ruleClassesWithPoints()),
  );
  const exemptions = parseExemptions(content.exemptions, where, new Set(files.map((f) => f.file.id)));
  const ruleSet = new RuleSet(files, { version: contentVersion(content), exemptions });
  return { ruleSet, catalogue, screener: new Screener(ruleSet, catalogue) };
}
