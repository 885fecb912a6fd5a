import { useQuery, useQueryClient, type QueryClient } from '@tanstack/react-query';
import { createContext, useCallback, useContext, useMemo, type ReactNode } from 'react';
import { ApiError, api, send, setCsrfToken } from './api';
import type { Me, Permission } from './types';

interface AuthState {
  me: Me | null;
  loading: boolean;
  /** True when the principal holds the permission: used to hide write actions (the API still enforces). */
  can(permission: Permission): boolean;
  login(apiKey: string): Promise<void>;
  logout(): Promise<void>;
}

const AuthContext = createContext<AuthState | null>(null);

async function fetchMe(): Promise<Me | null> {
  try {
    const me = await api<Me>('/v1/auth/me');
    setCsrfToken(me.csrf_token);
    return me;
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      setCsrfToken(undefined);
      return null;
    }
    throw error;
  }
}

/** Drops every cached answer but the principal's (whose observer must stay attached). */
function forgetData(client: QueryClient): void {
  client.removeQueries({ predicate: (query) => query.queryKey[0] !== 'me' });
}

export function AuthProvider({ children }: { children: ReactNode }) {
  const client = useQueryClient();
  const query = useQuery({ queryKey: ['me'], queryFn: fetchMe, staleTime: 30_000, retry: false });
  const me = query.data ?? null;

  const login = useCallback(
    async (apiKey: string) => {
      const answer = await send<{ csrf_token: string; principal: Me }>('POST', '/v1/auth/session', {
        api_key: apiKey,
      });
      setCsrfToken(answer.csrf_token);
      forgetData(client);
      client.setQueryData(['me'], await fetchMe());
    },
    [client],
  );

  const logout = useCallback(async () => {
    try {
      await send('POST', '/v1/auth/logout');
    } finally {
      setCsrfToken(undefined);
      forgetData(client);
      client.setQueryData(['me'], null);
    }
  }, [client]);

  const value = useMemo<AuthState>(
    () => ({
      me,
      loading: query.isPending,
      can: (permission) => !!me?.permissions.includes(permission),
      login,
      logout,
    }),
    [me, query.isPending, login, logout],
  );
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): AuthState {
  const value = useContext(AuthContext);
  if (!value) throw new Error('useAuth outside AuthProvider');
  return value;
}

/** Renders its children only for principals holding the permission (write buttons for admins, etc.). */
export function Can({ permission, children }: { permission: Permission; children: ReactNode }) {
  return useAuth().can(permission) ? <>{children}</> : null;
}
