import { fingerprint, withoutMeta } from './fingerprint.js';

export type DriftKind = 'changed' | 'added' | 'removed';

/** A tool-definition change after the first complete `tools/list`. */
export interface DriftChange {
  readonly tool: string;
  readonly kind: DriftKind;
  readonly previous?: string;
  readonly current?: string;
}

interface ToolRecord {
  /** Fingerprint first listed (baseline), or the first one seen for a tool added later. */
  readonly first: string;
  current: string;
  /** Set once the tool changed or appeared after the baseline. */
  drift?: 'changed' | 'added';
}

/** Differences between two name → fingerprint maps, as drift changes (`previous` → `current`). */
export function compareTools(
  previous: ReadonlyMap<string, string>,
  current: ReadonlyMap<string, string>,
): DriftChange[] {
  const changes: DriftChange[] = [];
  for (const [tool, print] of current) {
    const before = previous.get(tool);
    if (before === undefined) changes.push({ tool, kind: 'added', current: print });
    else if (before !== print) changes.push({ tool, kind: 'changed', previous: before, current: print });
  }
  for (const [tool, print] of previous)
    if (!current.has(tool)) changes.push({ tool, kind: 'removed', previous: print });
  return changes;
}

/**
 * The tools a server declared, and how they changed. The first complete listing (all pages, whoever asked) is
 * the baseline; afterwards a tool whose definition fingerprint (everything but `_meta`) differs is `changed`, a
 * new name is `added`, and a name missing from a complete later listing is `removed`.
 */
export class ToolRegistry {
  private readonly tools = new Map<string, ToolRecord>();
  private baselineDone = false;
  /** Names seen in the listing pass in progress (from a page without cursor to one without nextCursor). */
  private pass: Set<string> | null = null;

  /** Name → fingerprint of every tool currently known (the baseline once `listed`, plus later changes). */
  snapshot(): Map<string, string> {
    return new Map([...this.tools].map(([name, record]) => [name, record.current]));
  }

  /** True once one complete listing has been seen. */
  get listed(): boolean {
    return this.baselineDone;
  }

  has(name: string): boolean {
    return this.tools.has(name);
  }

  driftOf(name: string): 'changed' | 'added' | undefined {
    return this.tools.get(name)?.drift;
  }

  /**
   * Records one page of a `tools/list` result. `firstPage`: the request had no cursor; `lastPage`: the result
   * has no `nextCursor`. Returns the drift this page revealed.
   */
  observe(tools: readonly unknown[], firstPage: boolean, lastPage: boolean): DriftChange[] {
    const changes: DriftChange[] = [];
    if (firstPage || !this.pass) this.pass = new Set();
    for (const tool of tools) {
      if (!tool || typeof tool !== 'object' || typeof (tool as { name?: unknown }).name !== 'string')
        continue;
      const name = (tool as { name: string }).name;
      const print = toolFingerprint(tool as Record<string, unknown>);
      this.pass.add(name);
      const known = this.tools.get(name);
      if (!known) {
        if (this.baselineDone) {
          this.tools.set(name, { first: print, current: print, drift: 'added' });
          changes.push({ tool: name, kind: 'added', current: print });
        } else {
          this.tools.set(name, { first: print, current: print });
        }
        continue;
      }
      if (known.current === print) continue;
      if (!this.baselineDone) {
        this.tools.set(name, { first: print, current: print });
        continue;
      }
      const previous = known.current;
      known.current = print;
      if (known.drift !== 'added') known.drift = 'changed';
      changes.push({ tool: name, kind: 'changed', previous, current: print });
    }
    if (lastPage) {
      if (this.baselineDone) {
        for (const [name, record] of this.tools) {
          if (!this.pass.has(name)) {
            changes.push({ tool: name, kind: 'removed', previous: record.current });
            this.tools.delete(name);
          }
        }
      }
      this.baselineDone = true;
      this.pass = null;
    }
    return changes;
  }
}

/** Digest of a tool definition, `_meta` excluded (servers may put volatile hints there). */
export function toolFingerprint(tool: Record<string, unknown>): string {
  return fingerprint(withoutMeta(tool), '');
}
