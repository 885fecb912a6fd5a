import dns from 'node:dns/promises';
import { EgressConfigError, EgressGuard } from '../../../../libs/runtime/src/index.js';
import { ConfigError, type GatewayConfig } from '../config/config.js';

/**
 * The egress guard for upstream traffic: `--egress-allow` opens what the deployment needs; the control plane's
 * own address stays refused whatever the allow-list says (as written now, as resolved by `protectResolved`).
 */
export function createEgressGuard(config: GatewayConfig): EgressGuard {
  let egress: EgressGuard;
  try {
    egress = new EgressGuard(config.egressAllow);
  } catch (error) {
    if (error instanceof EgressConfigError) throw new ConfigError(error.message);
    throw error;
  }
  if (config.controlPlane) {
    const url = new URL(config.controlPlane.url);
    egress.protect({ host: url.hostname, port: portOf(url) });
  }
  return egress;
}

/** The control plane's resolved addresses stay refused to upstream traffic, whatever the allow-list says. */
export async function protectControlPlaneAddresses(
  egress: EgressGuard,
  config: GatewayConfig,
): Promise<void> {
  if (!config.controlPlane) return;
  const url = new URL(config.controlPlane.url);
  const addresses = await dns.lookup(url.hostname.replace(/^\[|\]$/g, ''), { all: true }).catch(() => []);
  for (const { address } of addresses) egress.protect({ host: address, port: portOf(url) });
}

function portOf(url: URL): number {
  return Number(url.port) || (url.protocol === 'https:' ? 443 : 80);
}
