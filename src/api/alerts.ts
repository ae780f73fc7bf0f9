import { z } from 'zod';
import { isoDate, isoTimestamp } from '../contracts/fields.ts';
import type { Basis, Flag } from '../contracts/flag.ts';
import { CursorError, type CursorScope, type CursorSigner, listingScope } from './cursor.ts';
import { fieldErrors, PROBLEM_TYPES, ProblemError, problem } from './problem.ts';
import { ROUTES, routeKey } from './routes.ts';

/** Where a page of a hospital's alerts ends: the last flag looked at, in the byHospital index. */
export interface AlertsPosition {
  flagId: string;
  hospitalId: string;
  /** `${createdAt}#${flagId}`, the index's sort key. */
  createdAtFlagId: string;
}

export interface AlertsQuery {
  hospitalId: string;
  /** Only alerts created at or after this instant (ISO-8601, as `Date.toISOString` writes it). */
  since?: string;
  limit: number;
  /** Continue after this position (from a cursor). */
  after?: AlertsPosition;
}

export interface AlertsPage {
  /** Newest first. */
  flags: Flag[];
  /** Set when there may be more. */
  next?: AlertsPosition;
}

/** Port: a hospital's in-process alerts, newest first. DynamoDB (the byHospital index) in the pipeline. */
export interface AlertsStore {
  listForHospital(query: AlertsQuery): Promise<AlertsPage>;
}

/** An in-process alert as the hospital reads it: the flag, named as the prescreen answer names its alerts. */
export interface HospitalAlert {
  alertId: string;
  claimId: string;
  createdAt: string;
  status: Flag['status'];
  ruleId: string;
  ruleClass: string;
  severity: Flag['severity'];
  result: Flag['result'];
  action: Flag['action'];
  message: string;
  lineNos: number[];
  amountAtRisk: number;
  basis: Basis;
  doctorId: string;
  insuredId: string;
}

export interface AlertsAnswer {
  hospitalId: string;
  alerts: HospitalAlert[];
  /** Pass as `cursor` for the next page; null when there is none. */
  nextCursor: string | null;
}

export const DEFAULT_ALERTS_LIMIT = 25;
export const MAX_ALERTS_LIMIT = 100;
/** Cursors we issue are about 200 characters, signature included; anything far longer is not one of ours. */
const MAX_CURSOR_LENGTH = 512;

const SINCE_MESSAGE =
  'expected an ISO-8601 UTC timestamp like 2026-10-03T09:12:00Z or a date like 2026-10-03';

const Query = z.strictObject({
  since: z
    .string()
    .refine((s) => isoTimestamp.safeParse(s).success || isoDate.safeParse(s).success, SINCE_MESSAGE)
    .optional(),
  cursor: z.string().max(MAX_CURSOR_LENGTH, 'not a cursor this listing issued').optional(),
  limit: z
    .string()
    .regex(/^\d{1,3}$/, `expected a whole number from 1 to ${MAX_ALERTS_LIMIT}`)
    .transform(Number)
    .refine((n) => n >= 1 && n <= MAX_ALERTS_LIMIT, `expected a whole number from 1 to ${MAX_ALERTS_LIMIT}`)
    .optional(),
});

/** Flag ids and hospital ids are short ASCII; a decoded cursor is held to that before it nears DynamoDB. */
const Id = z.string().regex(/^[\w.:-]{1,128}$/);
const CREATED_AT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?Z$/;
const Position = z.strictObject({ flagId: Id, hospitalId: Id, createdAtFlagId: z.string().max(200) });

export function encodeCursor(position: AlertsPosition): string {
  return Buffer.from(JSON.stringify(position), 'utf8').toString('base64url');
}

function invalidCursor(detail = 'the cursor is not one this listing issued'): ProblemError {
  return new ProblemError(
    problem(PROBLEM_TYPES.invalidCursor, 400, 'Invalid cursor', detail, [
      { path: 'query.cursor', message: 'not a cursor this listing issued; start again without it' },
    ]),
  );
}

/** A hospital's alerts listing is its own: the cursor is bound to the calling hospital, the listed one and `since`. */
export function alertsScope(
  callerHospitalId: string,
  hospitalId: string,
  since: string | undefined,
): CursorScope {
  return {
    caller: `hospital:${callerHospitalId}`,
    listing: listingScope(routeKey(ROUTES.hospitalAlerts), { hospitalId, since }),
  };
}

/**
 * A cursor back from a client, checked before it becomes a DynamoDB start key: it must be one of
 * ours, for this hospital's listing and within `since`. A cursor of another hospital's listing is
 * refused like any malformed one, so it tells nothing about that hospital.
 */
export function decodeCursor(cursor: string, hospitalId: string, since: string | undefined): AlertsPosition {
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) throw invalidCursor();
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch (error) {
    if (error instanceof SyntaxError) throw invalidCursor();
    throw error;
  }
  const parsed = Position.safeParse(json);
  if (!parsed.success) throw invalidCursor();
  const position = parsed.data;
  const [createdAt, flagId, ...rest] = position.createdAtFlagId.split('#');
  const consistent =
    rest.length === 0 &&
    flagId === position.flagId &&
    createdAt !== undefined &&
    CREATED_AT.test(createdAt) &&
    position.hospitalId === hospitalId &&
    (since === undefined || position.createdAtFlagId >= since);
  if (!consistent) throw invalidCursor();
  return position;
}

/** The query string of an alerts listing, or a 400 problem naming each invalid parameter. */
export function parseAlertsQuery(
  hospitalId: string,
  parameters: Record<string, string | undefined> | undefined,
  cursors: { signer: CursorSigner; callerHospitalId: string },
): AlertsQuery {
  const input = parameters ?? {};
  const result = Query.safeParse(input, { reportInput: true });
  if (!result.success) {
    const errors = fieldErrors(result.error.issues, input, ['query']);
    throw new ProblemError(
      problem(
        PROBLEM_TYPES.invalidQuery,
        400,
        'Invalid query',
        'the query string has invalid or unknown parameters (since, cursor, limit)',
        errors,
      ),
    );
  }
  const { since: rawSince, cursor, limit } = result.data;
  // Stored timestamps are Date.toISOString() strings; the bound must compare the same way.
  const since = rawSince === undefined ? undefined : new Date(rawSince).toISOString();
  return {
    hospitalId,
    limit: limit ?? DEFAULT_ALERTS_LIMIT,
    ...(since === undefined ? {} : { since }),
    ...(cursor === undefined
      ? {}
      : {
          after: decodeCursor(
            openCursor(cursors.signer, alertsScope(cursors.callerHospitalId, hospitalId, since), cursor),
            hospitalId,
            since,
          ),
        }),
  };
}

function openCursor(signer: CursorSigner, scope: CursorScope, cursor: string): string {
  try {
    return signer.open(scope, cursor);
  } catch (error) {
    if (error instanceof CursorError) throw invalidCursor(error.message);
    throw error;
  }
}

/** One page of a hospital's alerts, newest first, with the cursor of the next page sealed for `scope`. */
export async function listAlerts(
  store: AlertsStore,
  query: AlertsQuery,
  cursors: { signer: CursorSigner; scope: CursorScope },
): Promise<AlertsAnswer> {
  const page = await store.listForHospital(query);
  return {
    hospitalId: query.hospitalId,
    alerts: page.flags.map(toHospitalAlert),
    nextCursor: page.next ? cursors.signer.seal(cursors.scope, encodeCursor(page.next)) : null,
  };
}

export function toHospitalAlert(flag: Flag): HospitalAlert {
  return {
    alertId: flag.flagId,
    claimId: flag.claimId,
    createdAt: flag.createdAt,
    status: flag.status,
    ruleId: flag.ruleId,
    ruleClass: flag.basis.ruleClass,
    severity: flag.severity,
    result: flag.result,
    action: flag.action,
    message: flag.message,
    lineNos: flag.lineNos,
    amountAtRisk: flag.amountAtRisk,
    basis: flag.basis,
    doctorId: flag.doctorId,
    insuredId: flag.insuredId,
  };
}
