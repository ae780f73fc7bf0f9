import { generateMonth } from './src/generator/month.ts';
import { loadAuditCore } from './src/post/audit.ts';
const core = loadAuditCore();
const m = generateMonth({ seed: 7, period: '2026-10', claims: 20000 }, core.catalogue);
console.log('lines/claim', m.claims.reduce((s, c) => s + c.items.length, 0) / m.claims.length, 'bytes/claim', JSON.stringify(m.claims).length / m.claims.length);
for (let r = 0; r < 3; r++) {
  let t = Date.now();
  for (const c of m.claims) await core.screener.screen(c, { stage: 'post', history: [] });
  console.log('screen', Date.now() - t);
}
const rules = core.ruleSet.forStage('post');
for (const rule of rules) { const t = Date.now(); let n = 0; for (const c of m.claims) { for (const x of core.screener['#x'] ?? []) n++; } }
