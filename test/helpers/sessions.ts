import type { TestApp } from './app.js';
import { bearer } from './factories.js';

export const SESSION_COOKIE = '__Host-agent_bom_session';

export interface BrowserSession {
  cookie: string;
  csrf: string;
  id: string;
  setCookie: string;
}

/** Opens a session with an API key through `POST /v1/auth/session`, as the console does. */
export async function openSession(t: TestApp, apiKey: string): Promise<BrowserSession> {
  const res = await t.app.inject({ method: 'POST', url: '/v1/auth/session', payload: { api_key: apiKey } });
  if (res.statusCode !== 201) throw new Error(`session: ${res.statusCode} ${res.body}`);
  const setCookie = String(res.headers['set-cookie']);
  const value = new RegExp(`${SESSION_COOKIE}=([^;]+)`).exec(setCookie)![1];
  return {
    cookie: `${SESSION_COOKIE}=${value}`,
    csrf: res.json().csrf_token,
    id: res.json().session.id,
    setCookie,
  };
}

/** The control-plane audit entries of one type in the key's tenant, newest first. */
export async function auditOfType(t: TestApp, key: string, type: string) {
  const res = await t.app.inject({ method: 'GET', url: `/v1/audit?type=${type}`, headers: bearer(key) });
  if (res.statusCode !== 200) throw new Error(`audit: ${res.statusCode} ${res.body}`);
  return (
    res.json().items as Array<{ event: Record<string, unknown> & { details?: Record<string, unknown> } }>
  ).map((i) => i.event);
}
