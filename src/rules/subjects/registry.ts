import { claim } from './claim.ts';
import { course } from './course.ts';
import { courseSpan } from './course-span.ts';
import { dailyQuantity } from './daily-quantity.ts';
import { day } from './day.ts';
import { diagnosis } from './diagnosis.ts';
import { diagnosisEdit } from './diagnosis-edit.ts';
import { drugSubgroup } from './drug-subgroup.ts';
import { exclusivePair } from './exclusive-pair.ts';
import { herbalPrescription } from './herbal-prescription.ts';
import { historyCourse } from './history-course.ts';
import { historyCycle } from './history-cycle.ts';
import { historySameDay } from './history-same-day.ts';
import { historySecondLine } from './history-second-line.ts';
import { historySupply } from './history-supply.ts';
import { indication } from './indication.ts';
import { item } from './item.ts';
import type { SubjectKind } from './kind.ts';
import { prescription } from './prescription.ts';
import { procedureEdit } from './procedure-edit.ts';
import { serviceMix } from './service-mix.ts';
import { surgeryGroup } from './surgery-group.ts';
import { tcmIncompatibility } from './tcm-incompatibility.ts';
import { tcmPrescription } from './tcm-prescription.ts';

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
  ].map((kind) => [kind.name, kind]),
);
