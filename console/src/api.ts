/** The console's client of the review API, typed by the same zod contracts the handler parses with. */
import type { z } from 'zod';
import type {
  BulkAnswer,
  BulkBody,
  Counts,
  ExportAnswer,
  FlagDetail,
  FlagPage,
  Me,
  PrecisionAnswer,
  ScoresAnswer,
  TransitionAnswer,
} from '../../src/review/contracts.ts';
import type { ReviewAction } from '../../src/review/machine.ts';

export type MeAnswer = z.infer<typeof Me>;
export type Page = z.infer<typeof FlagPage>;
export type CountsAnswer = z.infer<typeof Counts>;
export type Detail = z.infer<typeof FlagDetail>;
export type Scores = z.infer<typeof ScoresAnswer>;
export type Precision = z.infer<typeof PrecisionAnswer>;
export type Decided = z.infer<typeof TransitionAnswer>;
export type Bulk = z.infer<typeof BulkAnswer>;
export type BulkRequest = z.input<typeof BulkBody>;
export type { ReviewAction };

const TOKEN_KEY = 'fundguard.token';

export const token = {
  get: (): string | null => localStorage.getItem(TOKEN_KEY),
  set: (value: string): void => localStorage.setItem(TOKEN_KEY, value),
  clear: (): void => localStorage.removeItem(TOKEN_KEY),
};

/** A refusal of the API: its RFC 9457 problem, with the flag's current state on a 409. */
export class ApiProblem extends Error {
  override readonly name = 'ApiProblem';
  constructor(
    readonly status: number,
    readonly type: string,
    detail: string,
    readonly current?: { status: string; version: number },
  ) {
    super(detail);
  }
}

async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(path, {
    method,
    headers: {
      authorization: `Bearer ${token.get() ?? ''}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const answer = (await response.json()) as Record<string, unknown>;
  if (!response.ok)
    throw new ApiProblem(
      response.status,
      String(answer.type ?? ''),
      String(answer.detail ?? response.statusText),
      answer.current as { status: string; version: number } | undefined,
    );
  return answer as T;
}

const query = (params: Record<string, string | undefined>): string => {
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v) search.set(k, v);
  const text = search.toString();
  return text ? `?${text}` : '';
};

export const api = {
  me: () => request<MeAnswer>('GET', '/v1/review/me'),
  list: (filters: Record<string, string>, cursor?: string) =>
    request<Page>('GET', `/v1/review/flags${query({ ...filters, limit: '50', cursor })}`),
  counts: (filters: Record<string, string>) =>
    request<CountsAnswer>('GET', `/v1/review/flags/counts${query(filters)}`),
  exportUrl: (filters: Record<string, string>) => `/v1/review/flags/export${query(filters)}`,
  detail: (flagId: string) => request<Detail>('GET', `/v1/review/flags/${encodeURIComponent(flagId)}`),
  decide: (
    flagId: string,
    body: { action: ReviewAction; reason: string; expectedVersion: number; evidence?: string },
  ) => request<Decided>('POST', `/v1/review/flags/${encodeURIComponent(flagId)}/transitions`, body),
  bulk: (body: BulkRequest) => request<Bulk>('POST', '/v1/review/flags/bulk', body),
  scores: (params: Record<string, string>) => request<Scores>('GET', `/v1/review/scores${query(params)}`),
  precision: () => request<Precision>('GET', '/v1/review/rules/precision'),
};

/**
 * The export needs the token too, so it is fetched: on AWS the answer says where the CSV was written
 * (a presigned URL the browser downloads without the token); the local server streams the CSV itself.
 */
export async function downloadExport(filters: Record<string, string>): Promise<void> {
  const response = await fetch(api.exportUrl(filters), {
    headers: { authorization: `Bearer ${token.get() ?? ''}`, accept: 'application/json, text/csv' },
  });
  if (!response.ok) throw new ApiProblem(response.status, '', `导出失败 (${response.status})`);
  if (response.headers.get('content-type')?.startsWith('application/json')) {
    const written = (await response.json()) as ExportAnswer;
    window.location.assign(written.url);
    return;
  }
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement('a');
  link.href = url;
  link.download = 'fundguard-flags.csv';
  link.click();
  URL.revokeObjectURL(url);
}
