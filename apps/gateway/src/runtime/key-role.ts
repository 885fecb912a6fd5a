import {
  isRole,
  roleHasPermission,
  type MeView,
  type Permission,
} from '../../../../libs/contracts/src/index.js';
import { ConfigError } from '../config/config.js';
import type { ControlPlaneLink } from '../control-plane/control-plane-link.js';

/** What the gateway does with its control-plane key: read discovery, check client keys, pull policy, push audit. */
const GATEWAY_KEY_PERMISSIONS: Permission[] = [
  'discovery:read',
  'keys:introspect',
  'policy:bundle',
  'audit:write',
];

/**
 * A gateway key must be able to do everything the gateway does for its tenant; a key of another role would
 * start, then answer every client 503 ("cannot confirm the key"). Refuse at start and name the role needed.
 */
export async function checkGatewayKeyRole(
  link: ControlPlaneLink,
  tenant: string,
  controlPlaneDisplay: string,
): Promise<void> {
  let me: MeView;
  try {
    me = await link.whoAmI();
  } catch (error) {
    throw new Error(
      `cannot read the control-plane token's role from ${controlPlaneDisplay}: ${(error as Error).message}`,
      { cause: error },
    );
  }
  const missing = GATEWAY_KEY_PERMISSIONS.filter((p) => !isRole(me.role) || !roleHasPermission(me.role, p));
  if (missing.length) {
    throw new ConfigError(
      `the --control-plane-token for tenant ${tenant} is a "${me.role}" key; the gateway needs a "gateway" key ` +
        `(missing ${missing.join(', ')}): create one with \`agent-bom keys create --tenant ${tenant} --role gateway\``,
    );
  }
}
