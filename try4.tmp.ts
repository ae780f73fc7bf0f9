import { generateMonth } from './src/generator/month.ts';
import { auditClaims, loadAuditCore } from './src/post/audit.ts';
const core = loadAuditCore();
for (const seed of [1, 2, 3, 11]) {
  const m = generateMonth({ seed, period: '2026-10', claims: 20000, injectionsPerPattern: 0, outlierHospitals: 0 }, core.catalogue);
  const r = await auditClaims(m.claims, core, '2026-10', new Date('2026-11-01T00:00:00Z'));
  console.log(seed, m.claims.length, r.claimFlags.length, r.flags.map((f) => f.message.slice(0, 90)));
}
