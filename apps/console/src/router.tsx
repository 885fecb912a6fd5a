import {
  createRootRoute,
  createRoute,
  createRouter,
  lazyRouteComponent,
  redirect,
} from '@tanstack/react-router';
import { Layout } from './components/layout';
import { LoginScreen } from './screens/login';
import { Overview } from './screens/overview';

/** Deep-linkable filters: every filter lives in the URL's query string, parsed here and nowhere else. */
const text = (value: unknown) =>
  (typeof value === 'string' || typeof value === 'number') && String(value).length
    ? String(value).slice(0, 500)
    : undefined;
const filters =
  (...keys: string[]) =>
  (search: Record<string, unknown>) =>
    Object.fromEntries(keys.map((key) => [key, text(search[key])])) as Record<string, string | undefined>;

const rootRoute = createRootRoute({ component: Layout });
const route = (
  path: string,
  component: Parameters<typeof createRoute>[0]['component'],
  keys: string[] = [],
) => createRoute({ getParentRoute: () => rootRoute, path, component, validateSearch: filters(...keys) });

const routeTree = rootRoute.addChildren([
  createRoute({
    getParentRoute: () => rootRoute,
    path: '/login',
    component: LoginScreen,
    validateSearch: filters('error'),
  }),
  route('/', Overview),
  route(
    '/fleet',
    lazyRouteComponent(() => import('./screens/fleet'), 'FleetScreen'),
    ['q', 'client', 'transport', 'environment', 'stale'],
  ),
  route(
    '/fleet/$id',
    lazyRouteComponent(() => import('./screens/fleet'), 'AgentScreen'),
  ),
  route(
    '/servers',
    lazyRouteComponent(() => import('./screens/servers'), 'ServersScreen'),
    ['q', 'transport', 'auth_mode', 'tab'],
  ),
  route(
    '/findings',
    lazyRouteComponent(() => import('./screens/findings'), 'FindingsScreen'),
    ['q', 'severity', 'status'],
  ),
  route(
    '/findings/$id',
    lazyRouteComponent(() => import('./screens/findings'), 'FindingScreen'),
  ),
  route(
    '/graph',
    lazyRouteComponent(() => import('./screens/graph'), 'GraphScreen'),
    ['node'],
  ),
  route(
    '/policies',
    lazyRouteComponent(() => import('./screens/policies'), 'PoliciesScreen'),
    ['q', 'enabled'],
  ),
  route(
    '/policies/new',
    lazyRouteComponent(() => import('./screens/policy-editor'), 'NewPolicyScreen'),
  ),
  route(
    '/policies/$id',
    lazyRouteComponent(() => import('./screens/policy-editor'), 'PolicyScreen'),
    ['version'],
  ),
  route(
    '/runtime',
    lazyRouteComponent(() => import('./screens/runtime'), 'RuntimeScreen'),
    ['decision', 'agent', 'tool', 'live'],
  ),
  route(
    '/audit',
    lazyRouteComponent(() => import('./screens/audit'), 'AuditScreen'),
    ['type', 'origin', 'decision', 'agent', 'tool', 'seq'],
  ),
  route(
    '/keys',
    lazyRouteComponent(() => import('./screens/keys'), 'KeysScreen'),
    ['tab'],
  ),
]);

/** Plain `?key=value` query strings (not JSON-encoded), so deep links read as they are typed. */
export const router = createRouter({
  routeTree,
  defaultPreload: false,
  parseSearch: (search) => Object.fromEntries(new URLSearchParams(search)),
  stringifySearch: (values) => {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(values)) {
      if (value !== undefined && value !== null && value !== '') params.set(key, String(value));
    }
    const text = params.toString();
    return text ? `?${text}` : '';
  },
});

declare module '@tanstack/react-router' {
  interface Register {
    router: typeof router;
  }
}

export { redirect };
