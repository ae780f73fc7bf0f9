/**
 * The demo's final summary (`npm start`) compares what the hospitals were alerted of with the
 * generator's own ground truth: per rule, the injected violations found and missed, and the flags
 * on the background the generator made clean.
 */
import { describe, expect, it } from 'vitest';
import { compareWithTruth, formatTruthComparison } from '../../src/cli/summary.ts';
import type { HospitalAlertMessage } from '../../src/contracts/alert.ts';
import { loadCore } from '../../src/core.ts';
import { generateClaims } from '../../src/generator/generate.ts';
import { LiveSummary } from '../../src/local/summary.ts';
import { processClaims } from '../../src/pipeline/in-process.ts';
import { memoryPorts } from '../helpers/ports.ts';

const core = loadCore();
const ruleIds = core.ruleSet.rules.map((r) => r.file.id);
const generated = await generateClaims({ seed: 5, claims: 600, violationRate: 0.1, ruleIds }, core);

/** The alerts the in-process stage sends for the stream, as the demo's hospitals receive them. */
async function alertsOfStream(): Promise<HospitalAlertMessage[]> {
  const ports = memoryPorts();
  const { failed } = await processClaims(generated.claims, {
    screener: core.screener,
    now: () => new Date('2026-10-04T08:00:00Z'),
    ...ports,
  });
  expect(failed).toEqual([]);
  return [...ports.alerts.sent.values()];
}

const counters = { received: 600, succeeded: 600, failed: 0, deadLettered: 0, handlerErrors: 0 };

function finalReport(alerts: readonly HospitalAlertMessage[]): string {
  const summary = new LiveSummary();
  summary.sent(generated.claims.length);
  for (const alert of alerts) summary.addAlert(alert);
  return summary.finalReport(counters, 0, generated.claims.length, 0, {
    truth: generated.truth,
    claims: generated.claims.length,
  });
}

describe("the demo's final summary against the generator's ground truth", () => {
  it('says the stream found every injected violation and flagged nothing on the clean background', async () => {
    const report = finalReport(await alertsOfStream());
    const n = generated.truth.length;
    expect(n).toBeGreaterThan(20);
    const clean = generated.claims.length - new Set(generated.truth.map((t) => t.claimId)).size;
    expect(report).toContain(
      `against the generator's ground truth: found ${n} of ${n} injected violations, missed 0; 0 flags on the ${clean} claims generated clean ✓`,
    );
    // A row per injected rule: injected, found, missed, unexpected flags.
    const rows = report.split('\n');
    for (const ruleId of new Set(generated.truth.map((t) => t.ruleId))) {
      const injected = generated.truth.filter((t) => t.ruleId === ruleId).length;
      const row = rows.find((r) => r.split(/\s+/).includes(ruleId) && r.split(/\s+/).length === 6);
      expect(row?.split(/\s+/).slice(2)).toEqual([`${injected}`, `${injected}`, '0', '0']);
    }
  });

  it('names the rule of a violation the hospitals were not alerted of as missed', async () => {
    const alerts = await alertsOfStream();
    const [first] = generated.truth;
    if (!first) throw new Error('the stream has no injected violation');
    const without = alerts.filter((a) => a.claimId !== first.claimId);
    const comparison = compareWithTruth(
      generated.truth,
      without.flatMap((a) =>
        a.flags.map((f) => ({
          claimId: a.claimId,
          ruleId: f.ruleId,
          lineNos: f.lineNos,
          ruleClass: f.basis.ruleClass,
        })),
      ),
      generated.claims.length,
    );
    expect(comparison.rows.find((r) => r.ruleId === first.ruleId)).toMatchObject({ missed: 1 });
    expect(comparison.found).toBe(generated.truth.length - 1);
    expect(formatTruthComparison(comparison)).not.toContain('✓');
  });

  it('counts a flag on a claim generated clean, and one on the wrong lines of an injected claim, as unexpected', () => {
    const injection = { claimId: 'C-1', ruleId: 'GZ-DRUG-SEX', ruleClass: '药品区分性别使用', lineNos: [2] };
    const comparison = compareWithTruth(
      [injection],
      [
        { claimId: 'C-1', ruleId: 'GZ-DRUG-SEX', ruleClass: '药品区分性别使用', lineNos: [1] },
        { claimId: 'C-2', ruleId: 'GZ-DRUG-SEX', ruleClass: '药品区分性别使用', lineNos: [1] },
      ],
      10,
    );
    expect(comparison).toEqual({
      rows: [
        {
          ruleId: 'GZ-DRUG-SEX',
          ruleClass: '药品区分性别使用',
          injected: 1,
          found: 0,
          missed: 1,
          unexpected: 2,
        },
      ],
      injected: 1,
      found: 0,
      cleanClaims: 9,
      flagsOnClean: 1,
    });
  });
});
