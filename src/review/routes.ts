/**
 * The routes of the review API, defined once: the handler's router, the local server and the CDK
 * construct (infra/review.ts) all read them from here.
 */
export const REVIEW_ROUTES = {
  me: { method: 'GET', path: '/v1/review/me' },
  listFlags: { method: 'GET', path: '/v1/review/flags' },
  countFlags: { method: 'GET', path: '/v1/review/flags/counts' },
  exportFlags: { method: 'GET', path: '/v1/review/flags/export' },
  bulkDecide: { method: 'POST', path: '/v1/review/flags/bulk' },
  flagDetail: { method: 'GET', path: '/v1/review/flags/{flagId}' },
  decide: { method: 'POST', path: '/v1/review/flags/{flagId}/transitions' },
  scores: { method: 'GET', path: '/v1/review/scores' },
  rulePrecision: { method: 'GET', path: '/v1/review/rules/precision' },
} as const;

export type ReviewRouteName = keyof typeof REVIEW_ROUTES;
export type ReviewRoute = (typeof REVIEW_ROUTES)[ReviewRouteName];

const PARAMETER = /\{([A-Za-z]+)\}/g;

/** The route a request takes and its raw path parameters; static paths win over `{flagId}`, as in API Gateway. */
export function matchReviewRoute(
  method: string,
  path: string,
): { name: ReviewRouteName; route: ReviewRoute; pathParameters: Record<string, string> } | undefined {
  const ordered = (Object.entries(REVIEW_ROUTES) as [ReviewRouteName, ReviewRoute][]).sort(
    ([, a], [, b]) => Number(a.path.includes('{')) - Number(b.path.includes('{')),
  );
  for (const [name, route] of ordered) {
    if (route.method !== method) continue;
    const names: string[] = [];
    const pattern = route.path.replace(PARAMETER, (_, n: string) => {
      names.push(n);
      return '([^/]+)';
    });
    const match = new RegExp(`^${pattern}$`).exec(path);
    if (!match) continue;
    return { name, route, pathParameters: Object.fromEntries(names.map((n, i) => [n, match[i + 1] ?? ''])) };
  }
  return undefined;
}
