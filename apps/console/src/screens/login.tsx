import { useQuery } from '@tanstack/react-query';
import { Navigate, getRouteApi, useNavigate } from '@tanstack/react-router';
import { useState, type FormEvent } from 'react';
import { ApiError, api, isNotFound } from '../lib/api';
import { useAuth } from '../lib/auth';
import type { SsoOptions } from '../lib/types';

const routeApi = getRouteApi('/login');
/** Only our own SSO start routes are followed (never an absolute URL from an answer). */
const safeLoginUrl = (url: string | null) => (url && /^\/v1\/auth\/[a-z0-9/_-]+$/i.test(url) ? url : null);

export function LoginScreen() {
  const { me, login } = useAuth();
  const navigate = useNavigate();
  const search = routeApi.useSearch();
  const [key, setKey] = useState('');
  const [error, setError] = useState<string | null>(search.error ? `Sign-in failed: ${search.error}` : null);
  const [busy, setBusy] = useState(false);
  const sso = useQuery({
    queryKey: ['sso'],
    queryFn: async () => {
      try {
        return await api<SsoOptions>('/v1/auth/sso');
      } catch (failure) {
        if (isNotFound(failure)) return null;
        throw failure;
      }
    },
  });

  if (me) return <Navigate to="/" />;

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await login(key.trim());
      setKey('');
      await navigate({ to: '/' });
    } catch (failure) {
      setError(
        failure instanceof ApiError && failure.status === 401
          ? 'That API key was not accepted (unknown, revoked or expired).'
          : `Sign-in failed: ${(failure as Error).message}`,
      );
    } finally {
      setBusy(false);
    }
  }

  const oidc = safeLoginUrl(sso.data?.oidc.enabled ? sso.data.oidc.login_url : null);
  const saml = safeLoginUrl(sso.data?.saml.enabled ? sso.data.saml.login_url : null);
  return (
    <main className="login" id="main">
      <h1>agent-bom console</h1>
      {(oidc || saml) && (
        <div className="sso" aria-label="Single sign-on">
          {oidc && (
            <a className="btn btn-primary" href={oidc}>
              Sign in with OIDC
            </a>
          )}
          {saml && (
            <a className="btn btn-primary" href={saml}>
              Sign in with SAML
            </a>
          )}
          <p className="muted">or use an API key</p>
        </div>
      )}
      <form onSubmit={submit} className="panel" aria-label="Sign in with an API key">
        <label htmlFor="api-key">API key</label>
        <input
          id="api-key"
          name="api_key"
          type="password"
          autoComplete="off"
          spellCheck={false}
          placeholder="abom_…"
          value={key}
          onChange={(event) => setKey(event.target.value)}
          required
        />
        <button type="submit" className="btn btn-primary" disabled={busy || !key.trim()}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
        {error && (
          <p className="state error" role="alert">
            {error}
          </p>
        )}
        <p className="muted small">
          The key is exchanged once for an HttpOnly session cookie; the console never stores it.
        </p>
      </form>
    </main>
  );
}
