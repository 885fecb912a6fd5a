import { createHmac, timingSafeEqual } from 'node:crypto';
import { parseCookie, stringifySetCookie } from 'cookie';

/**
 * The browser session cookie. `__Host-` makes the browser refuse it unless it is Secure, has `Path=/` and no
 * `Domain`, so a sibling subdomain cannot plant or overwrite it. HttpOnly keeps it from scripts; SameSite=Lax keeps
 * it off cross-site subrequests and unsafe cross-site navigations (and the CSRF token covers the rest).
 */
export const SESSION_COOKIE = '__Host-agent_bom_session';

/** The header a cookie-authenticated unsafe request must carry. */
export const CSRF_HEADER = 'x-csrf-token';

const SECRET = /^[A-Za-z0-9_-]{43}$/;

/** The session secret from a `Cookie` header, if it carries a well-formed one. */
export function sessionSecretOf(cookieHeader: string | undefined): string | undefined {
  if (!cookieHeader || cookieHeader.length > 16384) return undefined;
  const value = parseCookie(cookieHeader)[SESSION_COOKIE];
  return value && SECRET.test(value) ? value : undefined;
}

/**
 * The CSRF token of a session: an HMAC of a fixed label under the cookie's secret. Only someone holding the
 * cookie can compute it, so it needs no storage and survives replicas and restarts.
 */
export function csrfTokenOf(secret: string): string {
  return createHmac('sha256', secret).update('agent-bom csrf v1').digest('base64url');
}

/** Constant-time comparison of the presented header with the session's token. */
export function csrfMatches(presented: string | string[] | undefined, expected: string): boolean {
  if (typeof presented !== 'string') return false;
  const a = Buffer.from(presented);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function setSessionCookie(secret: string, expiresAt: Date): string {
  return stringifySetCookie({
    name: SESSION_COOKIE,
    value: secret,
    path: '/',
    httpOnly: true,
    secure: true,
    sameSite: 'lax',
    expires: expiresAt,
  });
}

export function clearSessionCookie(): string {
  return stringifySetCookie({
    name: SESSION_COOKIE,
    value: '',
    path: '/',
    httpOnly: true,
    secure: true,
    sameSite: 'lax',
    expires: new Date(0),
    maxAge: 0,
  });
}

/** Binds a browser login (OIDC) to the browser that started it; cleared by the callback. */
export const LOGIN_COOKIE = '__Host-agent_bom_login';

export function setLoginCookie(state: string, maxAgeSeconds: number): string {
  return stringifySetCookie({
    name: LOGIN_COOKIE,
    value: state,
    path: '/',
    httpOnly: true,
    secure: true,
    sameSite: 'lax',
    maxAge: maxAgeSeconds,
  });
}

export function clearLoginCookie(): string {
  return stringifySetCookie({
    name: LOGIN_COOKIE,
    value: '',
    path: '/',
    httpOnly: true,
    secure: true,
    sameSite: 'lax',
    maxAge: 0,
  });
}

export function loginStateOf(cookieHeader: string | undefined): string | undefined {
  if (!cookieHeader || cookieHeader.length > 16384) return undefined;
  const value = parseCookie(cookieHeader)[LOGIN_COOKIE];
  return value && /^[A-Za-z0-9_-]{20,128}$/.test(value) ? value : undefined;
}
