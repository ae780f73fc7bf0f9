import { join, relative } from 'node:path';
import type { Claim } from '../contracts/claim.ts';
import type { Flag, PostFlag } from '../contracts/flag.ts';
import { type Core, coreFromContent } from '../core.ts';
import { PERIOD_DIR, POLICY_DIR, type RuleSetContent, readRuleSetContent } from '../rules/content.ts';
import { defaultRulesDir } from '../rules/load.ts';
import { flagIdFor } from '../rules/screen.ts';
import { type Aggregates, emptyAggregates, mergeAggregates, ServiceClassifier } from './aggregates.ts';
import { type AuditContext, auditPatient } from './map.ts';
import { PolicyError, type PostPolicy, parsePostPolicy } from './policy.ts';
import { type Reduced, reduceAudit } from './reduce.ts';
import { type PeriodRuleSet, parsePeriodRules } from './rules.ts';

/** Everything an audit loads once per process: the rules core, the period rules and the policy. */
export interface AuditCore extends Core {
  periodRules: PeriodRuleSet;
  policy: PostPolicy;
  classifier: ServiceClassifier;
}

/** The audit core from a rules directory, read as one rule set's content (see `auditCoreFromContent`). */
export function loadAuditCore(rulesDir: string = defaultRulesDir()): AuditCore {
  return auditCoreFromContent(readRuleSetContent(rulesDir), relative(process.cwd(), rulesDir));
}

/**
 * The rules core and, from the same content, the period rules and the policy: a published rule set
 * is audited with exactly the policy and period rules it was published with.
 *
 * @throws RuleSetError, CatalogueLoadError or PolicyError naming each file and problem.
 */
export function auditCoreFromContent(content: RuleSetContent, where: string): AuditCore {
  const core = coreFromContent(content, where);
  const policy = parsePostPolicy(content.policy, join(where, POLICY_DIR));
  // parseCatalogue always reads the reference data, the service classes among them.
  const serviceClasses = core.catalogue.serviceClasses;
  if (!serviceClasses)
    throw new PolicyError([`${where}: no reference data, so no service classes to classify items by`]);
  return {
    ...core,
    periodRules: parsePeriodRules(content.period, join(where, PERIOD_DIR)),
    policy,
    classifier: new ServiceClassifier(serviceClasses),
  };
}

export function auditContext(core: AuditCore, period: string, now: Date): AuditContext {
  return {
    screener: core.screener,
    periodRules: core.periodRules,
    policy: core.policy,
    classifier: core.classifier,
    period,
    now,
  };
}

export interface PartialAudit {
  flags: Flag[];
  aggregates: Aggregates;
}

/** The map over many patients: each patient's claims in one group, in any order. */
export async function mapPatients(
  groups: Iterable<readonly Claim[]>,
  ctx: AuditContext,
): Promise<PartialAudit> {
  const aggregates = emptyAggregates();
  const flags: Flag[] = [];
  for (const claims of groups) flags.push(...(await auditPatient(claims, ctx, aggregates)));
  return { flags, aggregates };
}

/** Claims grouped by patient, in the order patients first appear. */
export function byPatient(claims: Iterable<Claim>): Claim[][] {
  const groups = new Map<string, Claim[]>();
  for (const c of claims) {
    const list = groups.get(c.patient.insuredId);
    if (list) list.push(c);
    else groups.set(c.patient.insuredId, [c]);
  }
  return [...groups.values()];
}

export interface AuditResult extends Reduced {
  claimFlags: Flag[];
  aggregates: Aggregates;
}

/** Map and reduce in one process over claims already in memory (tests, small files, the demo). */
export async function auditClaims(
  claims: Iterable<Claim>,
  core: AuditCore,
  period: string,
  now: Date,
): Promise<AuditResult> {
  const ctx = auditContext(core, period, now);
  const { flags, aggregates } = await mapPatients(byPatient(claims), ctx);
  return { claimFlags: flags, aggregates, ...(await reduceFrom([aggregates], core, period, now)) };
}

/** Merge partial aggregates (from segments or workers) and reduce them. */
export function reduceFrom(
  partials: readonly Aggregates[],
  core: AuditCore,
  period: string,
  now: Date,
): Promise<Reduced> {
  return reduceMerged(
    partials.reduce((a, b) => mergeAggregates(a, b), emptyAggregates()),
    core,
    period,
    now,
  );
}

/** Reduce aggregates already merged (by `mergeAggregates`, in a fixed order of the partials). */
export function reduceMerged(
  merged: Aggregates,
  core: AuditCore,
  period: string,
  now: Date,
): Promise<Reduced> {
  return reduceAudit(merged, {
    periodRules: core.periodRules,
    policy: core.policy,
    period,
    now,
    ruleSetVersion: core.ruleSet.version,
  });
}

/**
 * The post flags still to write: a post flag repeating an in-process flag of the same claim, rule,
 * version and lines has the same flagId (flag ids do not depend on the stage), so it is dropped.
 */
export function newFlags<F extends PostFlag>(flags: readonly F[], known: ReadonlySet<string>): F[] {
  return flags.filter((f) => !known.has(f.flagId));
}

/**
 * Claim flags with the ids of their claim's version, as the in-process stage gives a correction's
 * flags (`flagIdFor` with the version), so a post flag repeating an in-process flag of a corrected
 * claim has its id, and none overwrites a flag of the claim's earlier version. `versions` is keyed
 * `hospitalId/claimId`; a claim not in it is version 1, whose ids are the map's.
 */
export function withClaimVersions<F extends Flag>(
  flags: readonly F[],
  versions: ReadonlyMap<string, number>,
): F[] {
  return flags.map((f) => {
    const version = versions.get(`${f.hospitalId}/${f.claimId}`) ?? 1;
    if (version === 1) return f;
    const claim = { claimId: f.claimId, hospitalId: f.hospitalId, version };
    return { ...f, flagId: flagIdFor(claim, f.ruleId, f.ruleVersion, f.lineNos) };
  });
}
