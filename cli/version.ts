/** The agent-bom version: `--version`, the fleet payload's `agent_bom_version`, the push User-Agent. */
export const VERSION = '0.1.0';
