import { deepFreeze } from './freeze.js';
import type { PolicyDocument } from './types.js';

/**
 * The starting pack operators build on (`agent-bom policy init` writes it out). Deep-frozen: copy it with
 * `structuredClone` to customise. Priorities leave room: an operator allow at priority 101–999 can open a
 * specific execute or destructive tool for a specific agent, but only a rule above 1000 can override the
 * secret-path deny.
 */
export const BASELINE_POLICY: PolicyDocument = deepFreeze({
  version: 1,
  default_effect: 'allow',
  rules: [
    /**
     * Credentials on disk (SSH and GPG keys, cloud and Kubernetes credentials, `.env` files, package-registry
     * tokens) are never an agent's business. Checked on every method, so `resources/read` of
     * `file:///home/me/.ssh/id_rsa` is caught too. Highest priority so that no ordinary allow overrides it.
     */
    {
      id: 'baseline-secret-paths',
      description: 'Never read or write well-known credential files',
      effect: 'deny',
      priority: 1000,
      secret_paths: true,
    },
    /**
     * Tools that delete, drop, truncate, wipe or kill cannot be undone, and an injected prompt is all it takes
     * to call them. Deny by class (from the tool name and from SQL such as `DROP TABLE` in the arguments).
     */
    {
      id: 'baseline-destructive-tools',
      description: 'Deny tools that delete or destroy data',
      effect: 'deny',
      priority: 100,
      tool_classes: ['destructive'],
    },
    /**
     * Running commands or code hands the agent the whole machine. Deny by class (from the tool name and from
     * `command`/`script`-like arguments); open specific tools for specific agents with a higher-priority allow.
     */
    {
      id: 'baseline-execute-tools',
      description: 'Deny tools that run commands or code',
      effect: 'deny',
      priority: 100,
      tool_classes: ['execute'],
    },
    /**
     * Egress to hosts nobody listed. Audit mode with an empty allow-list: every URL or host in the arguments is
     * reported (the decision becomes a non-blocking `warn`) so operators can learn the real destinations, fill
     * `allow_hosts`, then switch the rule to `enforce`.
     */
    {
      id: 'baseline-unknown-egress',
      description: 'Report calls that reach hosts outside the allow-list',
      effect: 'deny',
      mode: 'audit',
      priority: 50,
      egress: { allow_hosts: [] },
    },
  ],
});
