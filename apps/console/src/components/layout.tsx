import { Link, Navigate, Outlet, useRouterState } from '@tanstack/react-router';
import { useAuth } from '../lib/auth';
import { Loading } from './states';

const NAV: { to: string; label: string }[] = [
  { to: '/', label: 'Overview' },
  { to: '/fleet', label: 'Fleet' },
  { to: '/servers', label: 'MCP servers' },
  { to: '/findings', label: 'Findings' },
  { to: '/graph', label: 'Graph' },
  { to: '/policies', label: 'Policies' },
  { to: '/runtime', label: 'Runtime' },
  { to: '/audit', label: 'Audit' },
  { to: '/keys', label: 'Keys & sessions' },
];

/** The shell: signed-out visitors go to /login; everyone else gets the navigation and the screen. */
export function Layout() {
  const { me, loading, logout } = useAuth();
  const pathname = useRouterState({ select: (state) => state.location.pathname });
  if (pathname === '/login') return <Outlet />;
  if (loading) return <Loading label="Checking your session…" />;
  if (!me) return <Navigate to="/login" />;
  return (
    <div className="shell">
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <span className="brand">agent-bom</span>
        <span className="who" data-testid="whoami">
          {me.subject} · <strong>{me.role}</strong> · tenant <code>{me.tenant_id}</code>
        </span>
        <button type="button" className="btn" onClick={() => void logout()}>
          Sign out
        </button>
      </header>
      <nav className="sidenav" aria-label="Main">
        <ul>
          {NAV.map((item) => (
            <li key={item.to}>
              <Link
                to={item.to}
                activeOptions={{ exact: item.to === '/' }}
                activeProps={{ 'aria-current': 'page' }}
              >
                {item.label}
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" tabIndex={-1}>
        <Outlet />
      </main>
    </div>
  );
}
