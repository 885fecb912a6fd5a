import { parseDuration } from '../../libs/contracts/src/index.js';
import { AuditRetentionService } from '../../src/modules/audit/audit-retention.service.js';
import { TenantsService } from '../../src/modules/tenants/tenants.service.js';
import { printJson, UsageError, withControlPlane } from './context.js';

/**
 * `agent-bom audit prune [--tenant T] [--older-than 90d]`: applies retention now (what the control plane does
 * hourly when AGENT_BOM_AUDIT_RETENTION_DAYS is set). Exit 1 if any chain was refused because it does not verify.
 */
export function pruneAudit(options: {
  tenant?: string;
  olderThan?: string;
  json?: boolean;
}): Promise<number> {
  let seconds: number | undefined;
  if (options.olderThan !== undefined) {
    seconds = parseDuration(options.olderThan);
    if (seconds === undefined) throw new UsageError('--older-than must be a duration such as 90d, 12h or 2w');
  }
  return withControlPlane(options, async ({ app, principal }) => {
    const retention = app.get(AuditRetentionService);
    const olderThanSeconds = seconds ?? (retention.retentionDays ?? 0) * 86400;
    if (!olderThanSeconds) {
      throw new UsageError(
        'no retention configured: set AGENT_BOM_AUDIT_RETENTION_DAYS or pass --older-than',
      );
    }
    if (options.tenant && !(await app.get(TenantsService).exists(options.tenant))) {
      throw new Error(`tenant "${options.tenant}" does not exist`);
    }
    const results = await retention.prune({
      olderThanSeconds,
      subject: principal('system').subject,
      tenantId: options.tenant,
    });
    if (options.json) printJson(results);
    else {
      for (const r of results) {
        const line = r.refused
          ? `${r.tenant_id}\trefused: chain does not verify (${r.refused.reason} at seq ${r.refused.seq})`
          : r.pruned
            ? `${r.tenant_id}\tpruned ${r.pruned} entries through seq ${r.anchor_seq}`
            : `${r.tenant_id}\tnothing old enough`;
        process.stdout.write(line + '\n');
      }
    }
    return results.some((r) => r.refused) ? 1 : 0;
  });
}
