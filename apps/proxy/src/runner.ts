import { Inject, Injectable } from '@nestjs/common';
import { AuditSink } from './audit/audit-sink.js';
import type { ProxyConfig } from './config.js';
import { ProxyLogger } from './logger.js';
import type { BundlePolicySource } from '../../../libs/runtime/src/index.js';
import { fromSnapshot, PolicySet } from './policy/policy-set.js';
import { Relay } from './relay.js';
import { BUNDLE_SYNC, PROXY_CONFIG } from './tokens.js';

/**
 * One proxy session from start to exit: starts audit delivery (adopting spools of earlier runs), records which
 * policies are loaded, keeps the bundle fresh, relays until the server exits, then flushes audit (bounded) and
 * returns the server's exit status.
 */
@Injectable()
export class ProxyRunner {
  constructor(
    @Inject(PROXY_CONFIG) private readonly config: ProxyConfig,
    private readonly logger: ProxyLogger,
    private readonly audit: AuditSink,
    private readonly policies: PolicySet,
    private readonly relay: Relay,
    @Inject(BUNDLE_SYNC) private readonly sync: BundlePolicySource | null,
  ) {}

  async run(): Promise<number> {
    await this.audit
      .start()
      .catch((error: Error) => this.logger.error(`audit spool unavailable: ${error.message}`));
    for (const loaded of this.policies.loaded) this.policyLoaded(loaded.source, loaded.version, loaded.rules);
    this.watchPolicyFile();
    this.sync?.startRefreshing(this.config.policyRefreshMs, (bundle) => {
      const loaded = fromSnapshot('control_plane', bundle.policy);
      this.policies.setBundle(loaded);
      this.logger.info(`policy bundle v${bundle.payload.version} loaded (${loaded.rules} rules)`);
      this.policyLoaded('control_plane', loaded.version, loaded.rules);
    });
    const code = await this.relay.run();
    this.sync?.stop();
    this.policies.localFile?.close();
    const { clientFrames, refused } = this.relay.stats;
    this.logger.info(
      `session ended: ${clientFrames} client message(s), ${refused} refused; MCP server exit status ${code}`,
    );
    await this.audit.close(3_000);
    return code;
  }

  /** A changed `--policy` file is swapped in; a refused change keeps the last good policy and says why. */
  private watchPolicyFile(): void {
    const file = this.policies.localFile;
    file?.watch({
      onLoad: (snapshot) => {
        const loaded = fromSnapshot('local', snapshot);
        this.policies.setLocal(loaded);
        this.logger.info(`policy reloaded from ${file.path} (${loaded.version})`);
        this.policyLoaded('local', loaded.version, loaded.rules);
      },
      onRefused: (message) =>
        this.logger.warn(`policy file ${file.path} refused, keeping the last good policy: ${message}`),
    });
  }

  private policyLoaded(source: string, version: string, rules: number): void {
    this.audit.emit(
      {
        type: 'policy.loaded',
        policyVersion: version,
        reason: `${source === 'local' ? 'local policy file' : 'control-plane bundle'} with ${rules} rule(s)`,
      },
      { server: this.config.serverName, agent: this.config.agent },
    );
  }
}
