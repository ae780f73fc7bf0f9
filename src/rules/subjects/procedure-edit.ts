import { z } from 'zod';
import { PROCEDURE_EDITS_FILE } from '../../catalogue/code-edits.ts';
import { CodedEntryFact } from './diagnosis.ts';
import { EditFact, editFacts } from './diagnosis-edit.ts';
import { claimKind, type Subject } from './kind.ts';

/**
 * Each settlement-list procedure of the claim (ICD-9-CM-3, `claim.procedures`) once per sex edit of
 * rules/reference/procedure-edits.json it falls under (手术操作编码与性别不符). A claim without
 * procedures builds nothing. It covers no line: the claim does not say which charges a procedure
 * code stands for.
 */
export const procedureEdit = claimKind({
  name: 'procedureEdit',
  scope: 'claim',
  ruleClass: 'optional',
  reference: [PROCEDURE_EDITS_FILE],
  fact: z.object({ ...CodedEntryFact, date: z.string(), ...EditFact }),
  build({ claim, catalogue }) {
    const subjects: Subject[] = [];
    (claim.procedures ?? []).forEach((p, i) => {
      for (const edit of catalogue.procedureEditsOf(p.code)) {
        const { fact, reference } = editFacts(edit);
        subjects.push({
          kind: 'procedureEdit',
          fact: { index: i + 1, code: p.code, primary: p.primary, date: p.date, ...fact },
          date: p.date,
          lines: [],
          reference,
        });
      }
    });
    return subjects;
  },
});
