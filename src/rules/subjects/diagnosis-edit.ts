import { z } from 'zod';
import { type CodeEdit, DIAGNOSIS_EDITS_FILE } from '../../catalogue/code-edits.ts';
import { serviceSpan } from '../../contracts/claim.ts';
import { CodedEntryFact } from './diagnosis.ts';
import { claimKind, type Subject } from './kind.ts';

/** The `subject` fields a code edit (rules/reference) gives, shared by diagnosis and procedure edits. */
export const EditFact = {
  /** `sex` or `age`: which of the entry's statements the subject carries. */
  edit: z.string(),
  /** The one sex the code fits (M, F), '' for an age edit. */
  sex: z.string(),
  /** The age band the code fits, in completed years on the date; 0–150 for a sex edit. */
  minAgeYears: z.number(),
  maxAgeYears: z.number(),
  /** What the reference entry covers, as it names it. */
  reference: z.string(),
};

/** The edit's facts and the reference the flag cites. */
export function editFacts(edit: CodeEdit): {
  fact: Record<string, unknown>;
  reference: Subject['reference'];
} {
  return {
    fact: {
      edit: edit.edit,
      sex: edit.sex ?? '',
      minAgeYears: edit.minAgeYears ?? 0,
      maxAgeYears: edit.maxAgeYears ?? 150,
      reference: edit.name,
    },
    reference: { source: edit.source, ...(edit.doubt ? { doubt: edit.doubt } : {}) },
  };
}

/**
 * Each diagnosis of the claim once per sex or age edit of rules/reference/diagnosis-edits.json it
 * falls under (诊断与患者性别不符, 诊断与患者年龄不符); diagnoses no edit names build nothing. It
 * covers no line: a diagnosis is not a charge.
 */
export const diagnosisEdit = claimKind({
  name: 'diagnosisEdit',
  scope: 'claim',
  ruleClass: 'optional',
  reference: [DIAGNOSIS_EDITS_FILE],
  fact: z.object({ ...CodedEntryFact, ...EditFact }),
  build({ claim, catalogue }) {
    const [first] = serviceSpan(claim);
    const subjects: Subject[] = [];
    claim.diagnoses.forEach((d, i) => {
      for (const edit of catalogue.diagnosisEditsOf(d.code)) {
        const { fact, reference } = editFacts(edit);
        subjects.push({
          kind: 'diagnosisEdit',
          fact: { index: i + 1, code: d.code, primary: d.primary, ...fact },
          // The claim's first service date: the age a diagnosis is judged at.
          date: first,
          lines: [],
          reference,
        });
      }
    });
    return subjects;
  },
});
