import type { z } from 'zod';
import type { PublishedRulesEnv } from '../../src/config.ts';
import { loadCore } from '../../src/core.ts';
import { ActiveRuleSet } from '../../src/rules/active.ts';
import { RuleSetVersions } from '../../src/stores/rule-sets.ts';
import { documents } from './clients.ts';
import { logger } from './observability.ts';

/**
 * The rule set a function decides with: the bundled rules until a version is published, then the
 * active version, re-checked every RULE_SET_CHECK_SECONDS (one GetItem) with no redeploy.
 */
export function activeRuleSet(config: z.infer<typeof PublishedRulesEnv>): ActiveRuleSet {
  return new ActiveRuleSet(new RuleSetVersions(documents, config.RULE_SETS_TABLE), loadCore(), {
    checkEveryMs: config.RULE_SET_CHECK_SECONDS * 1000,
    log: logger,
  });
}
