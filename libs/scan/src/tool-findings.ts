import type { FleetServer, ScanFinding } from '../../contracts/src/index.js';
import { classesOfName, classNames } from '../../policy/src/index.js';

/** Tool classes (libs/policy) that make a tool surface dangerous, and the severity each gives. */
const DANGEROUS: Record<string, 'high' | 'medium'> = {
  execute: 'high',
  destructive: 'high',
  filesystem: 'medium',
  network: 'medium',
};

/** Declared tools plus the tools a successful introspection listed. */
export function toolsOf(server: FleetServer): string[] {
  const introspected = server.introspection?.status === 'ok' ? (server.introspection.tools ?? []) : [];
  return [...new Set([...(server.declared_tools ?? []), ...introspected])].sort();
}

/**
 * `dangerous_tool`: a server whose tools classify (with the policy library's tool classes, the same the proxy and
 * gateway enforce) as execute, destructive, filesystem or network. Whether a policy covers them is a
 * control-plane question and not answered here.
 */
export function dangerousTools(
  ref: string,
  server: FleetServer,
  credentials: string[],
  id: (kind: string, subject: string, rule: string) => string,
): ScanFinding | undefined {
  const hits = new Map<string, string[]>();
  for (const tool of toolsOf(server)) {
    for (const cls of classNames(classesOfName(tool))) {
      if (DANGEROUS[cls]) hits.set(cls, [...(hits.get(cls) ?? []), tool]);
    }
  }
  if (!hits.size) return undefined;
  const classes = [...hits.keys()].sort();
  const tools = [...new Set([...hits.values()].flat())].sort();
  return {
    id: id('dangerous_tool', ref, classes.join(',')),
    kind: 'dangerous_tool',
    severity: classes.some((c) => DANGEROUS[c] === 'high') ? 'high' : 'medium',
    title: `${server.name} exposes ${classes.join('/')} tools (${tools.slice(0, 5).join(', ')}${tools.length > 5 ? ', …' : ''})`,
    subject: ref,
    tools,
    servers: [ref],
    credentials,
    locations: [server.config_path],
  };
}

/**
 * `tool_drift`: a server whose live tool list (introspection) differs from the tools its config declares.
 * Undeclared live tools are `medium` (the server does more than the config says); only missing ones `low`.
 */
export function toolDrift(
  ref: string,
  server: FleetServer,
  credentials: string[],
  id: (kind: string, subject: string, rule: string) => string,
): ScanFinding | undefined {
  const declared = server.declared_tools ?? [];
  if (!declared.length || server.introspection?.status !== 'ok') return undefined;
  const live = new Set(server.introspection.tools ?? []);
  const declaredSet = new Set(declared);
  const undeclared = [...live].filter((t) => !declaredSet.has(t)).sort();
  const missing = declared.filter((t) => !live.has(t)).sort();
  if (!undeclared.length && !missing.length) return undefined;
  return {
    id: id('tool_drift', ref, `+${undeclared.join(',')}|-${missing.join(',')}`),
    kind: 'tool_drift',
    severity: undeclared.length ? 'medium' : 'low',
    title: `${server.name}: live tools differ from the config (${undeclared.length} undeclared, ${missing.length} missing)`,
    subject: ref,
    tools: [...undeclared.map((t) => `+${t}`), ...missing.map((t) => `-${t}`)],
    servers: [ref],
    credentials,
    locations: [server.config_path],
  };
}
