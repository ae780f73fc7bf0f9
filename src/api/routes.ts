/**
 * The routes of the pre-event API, defined once: the handler's router, the local HTTP server (for
 * the API Gateway route key) and the CDK construct all read them from here.
 */
export const ROUTES = {
  prescreen: { method: 'POST', path: '/v1/prescreen' },
  hospitalAlerts: { method: 'GET', path: '/v1/hospitals/{hospitalId}/alerts' },
} as const;

export type RouteName = keyof typeof ROUTES;
export type Route = (typeof ROUTES)[RouteName];

/** API Gateway's route key: `POST /v1/prescreen`. */
export const routeKey = (route: Route): string => `${route.method} ${route.path}`;

const PARAMETER = /\{([A-Za-z]+)\}/g;

/**
 * The route a request takes and its path parameters (raw, still percent-encoded), as API Gateway
 * matches them; undefined for a path or method no route has.
 */
/** The methods some route takes on `path`: the `Allow` of a 405 when the request's method is not among them. */
export function methodsFor(path: string): string[] {
  const methods = new Set<string>();
  for (const route of Object.values(ROUTES)) if (matchRoute(route.method, path)) methods.add(route.method);
  return [...methods];
}

export function matchRoute(
  method: string,
  path: string,
): { route: Route; pathParameters: Record<string, string> } | undefined {
  for (const route of Object.values(ROUTES)) {
    if (route.method !== method) continue;
    const names: string[] = [];
    const pattern = route.path.replace(PARAMETER, (_, name: string) => {
      names.push(name);
      return '([^/]+)';
    });
    const match = new RegExp(`^${pattern}$`).exec(path);
    if (!match) continue;
    const pathParameters: Record<string, string> = {};
    names.forEach((name, i) => {
      pathParameters[name] = match[i + 1] ?? '';
    });
    return { route, pathParameters };
  }
  return undefined;
}
