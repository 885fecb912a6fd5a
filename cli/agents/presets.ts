/**
 * `agent-bom agents --preset`: what to collect and whether to introspect. Explicit flags win over the preset.
 * Documented in docs/agents.md; keep the two in step.
 */
export interface AgentsPreset {
  /** Connect to each server (initialize + tools/list). */
  introspect: boolean;
  /** Read Claude Code's per-project sections of `~/.claude.json`. */
  claudeCodeProjects: boolean;
  /** Read the project files of every directory `~/.claude.json` lists. */
  knownProjects: boolean;
  /** Read the current directory's project files when no `--project` is given. */
  currentDirectory: boolean;
}

export const PRESET_NAMES = ['minimal', 'default', 'enterprise'] as const;
export type PresetName = (typeof PRESET_NAMES)[number];

export const PRESETS: Record<PresetName, AgentsPreset> = {
  /** User-level client configs only: the least the endpoint reads. */
  minimal: { introspect: false, claudeCodeProjects: false, knownProjects: false, currentDirectory: false },
  /** User-level configs, Claude Code's per-project servers, and the current (or given) project. */
  default: { introspect: false, claudeCodeProjects: true, knownProjects: false, currentDirectory: true },
  /** Every collector, plus introspection. */
  enterprise: { introspect: true, claudeCodeProjects: true, knownProjects: true, currentDirectory: true },
};
