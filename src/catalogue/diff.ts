import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { KNOWLEDGE_POINTS_FILE } from './index.ts';
import { CatalogueLoadError, parseCatalogueJson } from './read.ts';
import type { CatalogueFile, KnowledgePoint } from './schema.ts';

/**
 * The committed `knowledge-points.json`, read only as far as the diff needs (ids, classes and what a
 * point says): an import is how a catalogue of an older shape is brought up to date, so the file it
 * replaces need not match today's schema.
 */
const CommittedCatalogue = z.looseObject({
  supersededBy: z.record(z.string(), z.string()).optional(),
  knowledgePoints: z.array(z.looseObject({ kpId: z.string(), ruleClass: z.string() })),
});
export type CommittedCatalogue = z.infer<typeof CommittedCatalogue>;

/**
 * `knowledge-points.json` in `dir` as committed, or undefined when there is none yet (a first import).
 *
 * @throws CatalogueLoadError naming the file when it exists but is not JSON or has no knowledge points.
 */
export function readCommittedCatalogue(dir: string): CommittedCatalogue | undefined {
  const file = join(dir, KNOWLEDGE_POINTS_FILE);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new CatalogueLoadError(file, `cannot be read (${(error as Error).message})`, { cause: error });
  }
  return parseCatalogueJson(file, text, CommittedCatalogue, 'catalogue');
}

/** What an import changes in one rule class, as knowledge point ids. */
export interface RuleClassDiff {
  ruleClass: string;
  /** In force after the import, not before. */
  added: string[];
  /** In force before, replaced by an update now. */
  superseded: string[];
  /** In force before, in no batch now (neither in force nor superseded). */
  removed: string[];
  /** In force before and after, but saying something else (codes, text, restriction, grade, dates). */
  changed: string[];
}

export interface CatalogueDiff {
  /** No committed catalogue to compare with: everything is added. */
  first: boolean;
  /** Rule classes with a change, in the order the import lists them (then classes that left). */
  byRuleClass: RuleClassDiff[];
  totals: { added: number; superseded: number; removed: number; changed: number };
}

/** The fields that say what a point means; an import that changes any of them changes the point. */
function meaning(kp: Record<string, unknown>): string {
  const { kpId: _id, ...rest } = kp;
  return JSON.stringify(rest, Object.keys(rest).sort());
}

/**
 * What replacing `before` (the committed catalogue) with `after` (a fresh import) changes, by rule
 * class. Pure; the import prints it before writing anything.
 */
export function diffCatalogue(before: CommittedCatalogue | undefined, after: CatalogueFile): CatalogueDiff {
  const was = new Map((before?.knowledgePoints ?? []).map((kp) => [kp.kpId, kp]));
  const now = new Map<string, KnowledgePoint>(after.knowledgePoints.map((kp) => [kp.kpId, kp]));
  const supersededNow = new Set(Object.keys(after.supersededBy));
  const rows = new Map<string, RuleClassDiff>();
  const row = (ruleClass: string): RuleClassDiff => {
    let r = rows.get(ruleClass);
    if (!r) {
      r = { ruleClass, added: [], superseded: [], removed: [], changed: [] };
      rows.set(ruleClass, r);
    }
    return r;
  };
  for (const kp of after.knowledgePoints) {
    const old = was.get(kp.kpId);
    if (!old) row(kp.ruleClass).added.push(kp.kpId);
    else if (meaning(old) !== meaning(kp)) row(kp.ruleClass).changed.push(kp.kpId);
  }
  for (const [kpId, old] of was) {
    if (now.has(kpId)) continue;
    if (supersededNow.has(kpId)) row(old.ruleClass).superseded.push(kpId);
    else row(old.ruleClass).removed.push(kpId);
  }
  const byRuleClass = [...rows.values()].filter(
    (r) => r.added.length + r.superseded.length + r.removed.length + r.changed.length > 0,
  );
  const sum = (key: 'added' | 'superseded' | 'removed' | 'changed') =>
    byRuleClass.reduce((n, r) => n + r[key].length, 0);
  return {
    first: before === undefined,
    byRuleClass,
    totals: {
      added: sum('added'),
      superseded: sum('superseded'),
      removed: sum('removed'),
      changed: sum('changed'),
    },
  };
}

/** Whether the import changes no knowledge point in force. */
export const isUnchanged = (diff: CatalogueDiff): boolean => !diff.first && diff.byRuleClass.length === 0;

/** The diff as the import prints it: totals, then one row per rule class with a change. */
export function formatDiff(diff: CatalogueDiff, against: string): string {
  if (diff.first) return `no catalogue in ${against} yet: ${diff.totals.added} knowledge points added`;
  const { added, superseded, removed, changed } = diff.totals;
  const head = `against ${against}: ${added} added, ${superseded} superseded, ${removed} removed, ${changed} changed`;
  if (diff.byRuleClass.length === 0) return `${head} (the knowledge points in force are unchanged)`;
  const columns = ['added', 'superseded', 'removed', 'changed'];
  const cell = (ids: string[]) => String(ids.length).padStart(12);
  return [
    head,
    `${columns.map((c) => c.padStart(12)).join('')}  rule class`,
    ...diff.byRuleClass.map(
      (r) => `${cell(r.added)}${cell(r.superseded)}${cell(r.removed)}${cell(r.changed)}  ${r.ruleClass}`,
    ),
  ].join('\n');
}
