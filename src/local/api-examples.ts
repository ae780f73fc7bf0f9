import { API_KEY_HEADER } from '../api/identity.ts';
import { ROUTES } from '../api/routes.ts';
import { HOSPITALS } from '../generator/world.ts';
import { deepMerge, readBaseClaim } from '../rules/fixtures.ts';
import { defaultRulesDir } from '../rules/load.ts';

/** Ready-to-paste calls of the local API for one hospital, printed by `npm start`. */
export function curlExamples(
  url: string,
  hospitalId: string,
  key: string,
): { prescreen: string; alerts: string } {
  return {
    prescreen: [
      `curl -s -X POST ${url}${ROUTES.prescreen.path}`,
      `-H 'content-type: application/json' -H '${API_KEY_HEADER}: ${key}'`,
      `-d '${JSON.stringify(exampleDraft(hospitalId))}'`,
    ].join(' \\\n  '),
    alerts: `curl -s '${url}${ROUTES.hospitalAlerts.path.replace('{hospitalId}', hospitalId)}?limit=5' -H '${API_KEY_HEADER}: ${key}'`,
  };
}

/** The rules' base fixture as a draft of `hospitalId`: metformin for 60 days, past the 30-day outpatient limit. */
function exampleDraft(hospitalId: string): Record<string, unknown> {
  const {
    claimId: _claimId,
    submittedAt: _submittedAt,
    totals: _totals,
    ...draft
  } = readBaseClaim(defaultRulesDir());
  const hospital = HOSPITALS.find((h) => h.hospitalId === hospitalId);
  return deepMerge(draft, {
    hospital: {
      hospitalId,
      ...(hospital ? { level: hospital.level, region: hospital.region, internet: hospital.internet } : {}),
    },
    items: [
      {
        lineNo: 1,
        code: 'XA10BAE054A001010101234',
        name: '二甲双胍片',
        category: 'drug',
        quantity: 120,
        unitPrice: 0.35,
        amount: 42,
        serviceDate: '2026-10-03',
        daysSupply: 60,
      },
    ],
  });
}
