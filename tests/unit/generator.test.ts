import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Claim } from '../../src/contracts/claim.ts';
import { type Core, loadCore } from '../../src/core.ts';
import { ageInYears } from '../../src/dates.ts';
import { type Generated, generateClaims } from '../../src/generator/generate.ts';
import { INJECTORS } from '../../src/generator/violations.ts';
import { ALL_ORDINARY, HOSPITALS } from '../../src/generator/world.ts';
import { InMemoryHistoryStore } from '../../src/history/memory.ts';
import { SequentialScreening } from '../../src/pipeline/sequence.ts';
import { defaultRulesDir } from '../../src/rules/load.ts';

const core = loadCore();
const ruleIds = core.ruleSet.rules.map((r) => r.file.id);
const stream = await generateClaims({ seed: 11, claims: 2_500, violationRate: 0.1, ruleIds }, core);

/** Flags per claim and rule, from screening the stream in order as the in-process stage would. */
async function screenStream(generated: Generated, by: Core = core) {
  const sequence = new SequentialScreening(by.screener, 'in', new InMemoryHistoryStore());
  const flags = [];
  for (const claim of generated.claims) flags.push(...(await sequence.screen(claim)).flags);
  return flags;
}

/** Background claims billing a course-limited drug on more than 3 days. */
function longCourses(generated: Generated): string[] {
  const injected = new Set(generated.truth.map((t) => t.claimId));
  return generated.claims
    .filter((c) => !injected.has(c.claimId))
    .filter((c) => {
      const days = new Map<string, Set<string>>();
      for (const i of c.items)
        if (core.catalogue.pointsFor(i.code)?.get('药品限支付疗程')?.restriction?.kind === 'course')
          days.set(i.code, (days.get(i.code) ?? new Set()).add(i.serviceDate));
      return [...days.values()].some((d) => d.size > 3);
    })
    .map((c) => c.claimId);
}

describe('the claim generator', () => {
  it('is deterministic for a seed and differs between seeds', async () => {
    const again = await generateClaims({ seed: 11, claims: 2_500, violationRate: 0.1, ruleIds }, core);
    expect(JSON.stringify(again)).toBe(JSON.stringify(stream));
    const other = await generateClaims({ seed: 12, claims: 200, violationRate: 0.1, ruleIds }, core);
    expect(other.claims[0]).not.toEqual(stream.claims[0]);
  });

  it('writes exactly the claims asked for, each a valid Claim v1 with a unique id', () => {
    expect(stream.claims).toHaveLength(2_500);
    for (const claim of stream.claims) expect(Claim.safeParse(claim).error).toBeUndefined();
    expect(new Set(stream.claims.map((c) => c.claimId)).size).toBe(2_500);
  });

  it('looks like a real stream: every hospital level and the internet hospital, every visit type, all ages', () => {
    const levels = new Set(stream.claims.map((c) => `${c.hospital.level}${c.hospital.internet ? 'i' : ''}`));
    expect([...levels].sort()).toEqual(['1', '2', '2i', '3']);
    expect(new Set(stream.claims.map((c) => c.visit.type))).toEqual(
      new Set(['outpatient', 'emergency', 'pharmacy', 'inpatient', 'internet']),
    );
    const ages = stream.claims.map((c) => ageInYears(c.patient.birthDate, c.items[0]?.serviceDate ?? ''));
    expect(Math.min(...ages)).toBeLessThan(6);
    expect(Math.max(...ages)).toBeGreaterThan(85);
    const patients = new Map<string, number>();
    for (const c of stream.claims)
      patients.set(c.patient.insuredId, (patients.get(c.patient.insuredId) ?? 0) + 1);
    expect([...patients.values()].filter((n) => n > 1).length).toBeGreaterThan(100);
    // Inpatient stays bill every day of the stay.
    const stay = stream.claims.find(
      (c) => c.visit.type === 'inpatient' && c.visit.admittedAt !== c.visit.dischargedAt,
    );
    const days = new Set(stay?.items.map((i) => i.serviceDate));
    expect(days.has(stay?.visit.admittedAt ?? '')).toBe(true);
    expect(days.has(stay?.visit.dischargedAt ?? '')).toBe(true);
    // Catalogue codes in the clean background too, not only in the injected claims.
    const injected = new Set(stream.truth.map((t) => t.claimId));
    const catalogueLines = stream.claims
      .filter((c) => !injected.has(c.claimId))
      .flatMap((c) => c.items)
      .filter((i) => core.catalogue.pointsFor(i.code));
    expect(catalogueLines.length).toBeGreaterThan(1_000);
  });

  it('bills ordinary items under codes the catalogue does not hold', () => {
    for (const item of ALL_ORDINARY) expect(core.catalogue.pointsFor(item.code), item.name).toBeUndefined();
    expect(HOSPITALS.some((h) => h.internet)).toBe(true);
  });

  it('injects every rule of the pack at the configured rate, with ground truth', () => {
    expect(new Set(stream.truth.map((t) => t.ruleId))).toEqual(new Set(ruleIds));
    expect(INJECTORS.map((i) => i.ruleId).sort()).toEqual([...ruleIds].sort());
    expect(stream.truth.length).toBeGreaterThanOrEqual(240);
    expect(stream.truth.length).toBeLessThanOrEqual(250);
  });

  it('puts a patient’s claims in service-date order, so history rules see the earlier one first', () => {
    const last = new Map<string, string>();
    for (const claim of stream.claims) {
      const first = claim.items.map((i) => i.serviceDate).sort()[0] ?? '';
      const previous = last.get(claim.patient.insuredId);
      if (previous) expect(first >= previous, claim.claimId).toBe(true);
      last.set(claim.patient.insuredId, first);
    }
  });

  it('yields every injected violation on exactly its lines, and no flag on the clean background', async () => {
    const flags = await screenStream(stream);
    const found = flags.map((f) => ({
      claimId: f.claimId,
      ruleId: f.ruleId,
      lineNos: [...f.lineNos].sort((a, b) => a - b),
    }));
    const expected = stream.truth.map(({ claimId, ruleId, lineNos }) => ({ claimId, ruleId, lineNos }));
    const key = (v: { claimId: string; ruleId: string }) => `${v.claimId}|${v.ruleId}`;
    expect(found.sort((a, b) => key(a).localeCompare(key(b)))).toEqual(
      expected.sort((a, b) => key(a).localeCompare(key(b))),
    );
  });

  it('rejects a rate outside 0–1 and a fractional claim count', async () => {
    await expect(generateClaims({ seed: 1, claims: 10, violationRate: 1.5 }, core)).rejects.toThrow(
      /violationRate/,
    );
    await expect(generateClaims({ seed: 1, claims: 2.5, violationRate: 0 }, core)).rejects.toThrow(/claims/);
  });

  it('keeps its background clean by the rule set it is given, not by a copy of the rules', async () => {
    // A stricter course rule than the catalogue's: any course-limited drug on more than 3 days.
    const dir = mkdtempSync(join(tmpdir(), 'fundguard-generator-'));
    cpSync(defaultRulesDir(), dir, { recursive: true });
    const path = join(dir, 'drug-course.json');
    const rule = JSON.parse(readFileSync(path, 'utf8'));
    rule.params = { payableDays: 3 };
    rule.conditions.all[0].value = { fact: 'params', path: '$.payableDays' };
    rule.atRisk.beyond.limit = { fact: 'params', path: '$.payableDays' };
    rule.fixtures = rule.fixtures.map((f: { expect: string }) => ({ ...f, lineNos: undefined }));
    writeFileSync(path, JSON.stringify(rule));
    const strict = loadCore(dir);
    // The course injectors bill a course up to the catalogue's limit as clean, so they sit this out.
    const injectable = ruleIds.filter((id) => !id.startsWith('GZ-DRUG-COURSE'));
    const generated = await generateClaims(
      { seed: 21, claims: 800, violationRate: 0.1, ruleIds: injectable },
      strict,
    );
    const flags = await screenStream(generated, strict);
    const injected = new Set(generated.truth.map((t) => `${t.claimId}|${t.ruleId}`));
    expect(flags.filter((f) => !injected.has(`${f.claimId}|${f.ruleId}`))).toEqual([]);
    // Under the pack's own rule (the catalogue's limits) the background has such courses; here none.
    expect(longCourses(stream).length).toBeGreaterThan(0);
    expect(longCourses(generated)).toEqual([]);
  });
});
