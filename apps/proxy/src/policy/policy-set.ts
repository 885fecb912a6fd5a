import {
  evaluateAll,
  type CompiledPolicy,
  type Decision,
  type EvaluationContext,
  type ToolCall,
} from '../../../../libs/policy/src/index.js';
import type { FilePolicySource, PolicySnapshot } from '../../../../libs/runtime/src/index.js';

export type PolicySource = 'local' | 'control_plane';

/** A compiled policy and where it came from. */
export interface LoadedPolicy {
  readonly source: PolicySource;
  readonly policy: CompiledPolicy;
  /** `sha256:<12 hex>` of a local file, or the bundle's version number. */
  readonly version: string;
  readonly rules: number;
}

/** The outcome of every loaded policy for one call, reduced to what the proxy acts on. */
export interface PolicyVerdict {
  readonly effect: Decision['effect'];
  readonly enforced: boolean;
  readonly ruleId: string | null;
  readonly reason: string;
  readonly source?: PolicySource;
  readonly version?: string;
}

const ALLOW: PolicyVerdict = { effect: 'allow', enforced: true, ruleId: null, reason: 'no policy loaded' };

/**
 * The local `--policy` file and the control-plane bundle, evaluated together: a call must be allowed by
 * both. The first deny (local first) decides; otherwise the first warn; otherwise allow. The file (on reload)
 * and the bundle (on refresh) are swapped atomically, so a call is always judged by one complete policy.
 */
export class PolicySet {
  private local: LoadedPolicy | undefined;

  constructor(
    /** The `--policy` file's source, which the runner watches for changes. */
    readonly localFile: FilePolicySource | undefined,
    private bundle: LoadedPolicy | undefined,
  ) {
    this.local = localFile ? fromSnapshot('local', localFile.current) : undefined;
  }

  setLocal(local: LoadedPolicy): void {
    this.local = local;
  }

  get loaded(): readonly LoadedPolicy[] {
    return [this.local, this.bundle].filter((p): p is LoadedPolicy => p !== undefined);
  }

  get bundleVersion(): string | undefined {
    return this.bundle?.version;
  }

  setBundle(bundle: LoadedPolicy): void {
    this.bundle = bundle;
  }

  decide(call: ToolCall, context: EvaluationContext): PolicyVerdict {
    const loaded = this.loaded;
    const best = evaluateAll(loaded, compiledOf, call, context);
    if (!best) return ALLOW;
    const { decision, policy } = best;
    if (decision.effect === 'allow') return { ...ALLOW, reason: 'allowed' };
    return {
      effect: decision.effect,
      enforced: decision.enforced,
      ruleId: decision.rule_id,
      reason: decision.reason,
      source: policy.source,
      version: policy.version,
    };
  }
}

const compiledOf = (loaded: LoadedPolicy): CompiledPolicy => loaded.policy;

/** A snapshot of the shared policy sources (file or bundle), named by its source. */
export function fromSnapshot(source: PolicySource, snapshot: PolicySnapshot): LoadedPolicy {
  return { source, policy: snapshot.compiled, version: snapshot.version, rules: snapshot.rules };
}
