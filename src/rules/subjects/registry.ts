import { admissionWindow } from './admission-window.ts';
import { afterDeathAcross } from './after-death-across.ts';
import { claim } from './claim.ts';
import { course } from './course.ts';
import { courseSpan } from './course-span.ts';
import { dailyQuantity } from './daily-quantity.ts';
import { day } from './day.ts';
import { diagnosis } from './diagnosis.ts';
import { diagnosisEdit } from './diagnosis-edit.ts';
import { doctorDay } from './doctor-day.ts';
import { drugSubgroup } from './drug-subgroup.ts';
import { drugWindow } from './drug-window.ts';
import { exclusivePair } from './exclusive-pair.ts';
import { herbalPrescription } from './herbal-prescription.ts';
import { historyCourse } from './history-course.ts';
import { historyCycle } from './history-cycle.ts';
import { historySameDay } from './history-same-day.ts';
import { historySecondLine } from './history-second-line.ts';
import { historySupply } from './history-supply.ts';
import { indication } from './indication.ts';
import { item } from './item.ts';
import type { PeriodSubjectKind, SubjectKind } from './kind.ts';
import { overlappingStay } from './overlapping-stay.ts';
import { peerIndicator } from './peer-indicator.ts';
import { prescription } from './prescription.ts';
import { procedureEdit } from './procedure-edit.ts';
import { readmission } from './readmission.ts';
import { serviceMix } from './service-mix.ts';
import { stayOutpatient } from './stay-outpatient.ts';
import { surgeryGroup } from './surgery-group.ts';
import { tcmIncompatibility } from './tcm-incompatibility.ts';
import { tcmPrescription } from './tcm-prescription.ts';
import { visitWindow } from './visit-window.ts';

/**
 * Every subject kind a rule file may name in `subject`. A new kind is one module beside these,
 * declaring what it needs and offers, and one entry here; the linter, the JSON Schema and the
 * screener read everything else from the module.
 */
export const SUBJECT_KINDS: ReadonlyMap<string, SubjectKind> = new Map(
  [
    item,
    day,
    exclusivePair,
    dailyQuantity,
    course,
    tcmPrescription,
    // The claim's own data, no catalogue (issue 8).
    claim,
    diagnosis,
    prescription,
    herbalPrescription,
    historySameDay,
    historyCourse,
    courseSpan,
    historyCycle,
    historySupply,
    // Public reference data in rules/reference, no knowledge point (issue 8).
    diagnosisEdit,
    procedureEdit,
    tcmIncompatibility,
    drugSubgroup,
    serviceMix,
    historySecondLine,
    surgeryGroup,
    // Knowledge points read with rules/reference/indication-diseases.json (issue 10).
    indication,
    // Period kinds (post-event): a patient's claims together, built in the map…
    readmission,
    admissionWindow,
    visitWindow,
    drugWindow,
    overlappingStay,
    stayOutpatient,
    afterDeathAcross,
    // …and a hospital's or doctor's merged aggregates, built in the reduce.
    doctorDay,
    peerIndicator,
  ].map((kind) => [kind.name, kind]),
);

const periodKinds = [...SUBJECT_KINDS.values()].filter((k): k is PeriodSubjectKind => k.scope === 'period');

/** The kinds period rules (`rules/period/`) may name, in the order the post-event map builds them. */
export const PERIOD_SUBJECT_KINDS: ReadonlyMap<string, PeriodSubjectKind> = new Map(
  periodKinds.map((kind) => [kind.name, kind]),
);

/** Their names, for the period rule file's `subject` enum. */
export const PERIOD_SUBJECT_NAMES = periodKinds.map((k) => k.name) as [string, ...string[]];
