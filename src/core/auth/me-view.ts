import { permissionsOf, type MeView } from '../../../libs/contracts/src/index.js';
import type { Principal } from './principal.js';

/** The answer of `GET /v1/auth/me` (also the `principal` of a new session). */
export function meViewOf(principal: Principal): MeView {
  const view: MeView = {
    tenant_id: principal.tenantId,
    role: principal.role,
    subject: principal.subject,
    auth_method: principal.authMethod,
    key_id: principal.keyId,
    permissions: permissionsOf(principal.role),
  };
  if (principal.session) {
    view.session = {
      id: principal.session.id,
      expires_at: principal.session.expiresAt.toISOString(),
      via: principal.session.via,
    };
    view.csrf_token = principal.session.csrfToken;
  }
  return view;
}
