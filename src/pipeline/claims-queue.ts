import { createHash } from 'node:crypto';

/**
 * How a settled claim goes onto the claims queue, a FIFO queue (src/resources.ts): its message
 * group is the patient, so SQS hands a patient's claims to the in-process stage one batch at a
 * time and in the order they were sent — no two claims of one patient are decided at once, and a
 * later claim always sees the earlier one in history (docs/in-process.md). Deduplication is by
 * content (the queue's ContentBasedDeduplication): the same body sent twice within five minutes is
 * one message; the store recognises later resends (docs/dynamodb.md, claim identity).
 */

/** SQS allows 1–128 characters of alphanumerics and punctuation in a message group id. */
const GROUP_ID = /^[!-~]{1,128}$/;

/** Bodies that are not a claim with a patient still need a group; they share this one and fail alone. */
export const UNREADABLE_GROUP = 'unreadable-claims';

/** The message group of a patient: the insured id itself where SQS allows it, else its hash. */
export function patientGroupId(insuredId: string): string {
  if (GROUP_ID.test(insuredId)) return insuredId;
  return `sha256:${createHash('sha256').update(insuredId).digest('hex')}`;
}

/** The group of a message body: its `patient.insuredId` when the body has one. */
export function groupOfBody(body: string): string {
  try {
    const insuredId = (JSON.parse(body) as { patient?: { insuredId?: unknown } })?.patient?.insuredId;
    return typeof insuredId === 'string' && insuredId ? patientGroupId(insuredId) : UNREADABLE_GROUP;
  } catch {
    // Not JSON: the handler refuses it with its parse error; here it only needs a group.
    return UNREADABLE_GROUP;
  }
}

/** A SendMessageBatch entry for a claim body. */
export const claimEntry = (id: string, body: string) => ({
  Id: id,
  MessageBody: body,
  MessageGroupId: groupOfBody(body),
});
