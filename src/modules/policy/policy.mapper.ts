import type { PolicySummaryView, PolicyView } from '../../../libs/contracts/src/index.js';
import type { PolicyRecord, PolicySummaryRecord } from './policy.repository.js';

const iso = (d: Date) => new Date(d).toISOString();

function common(r: PolicyRecord | PolicySummaryRecord) {
  return {
    id: r.id,
    tenant_id: r.tenant_id,
    name: r.name,
    description: r.description,
    enabled: r.enabled,
    bindings: r.bindings,
    version: r.version,
    deleted: r.deleted,
    bundle_version: r.bundle_version,
    created_at: iso(r.created_at),
    updated_at: iso(r.updated_at),
    updated_by: r.updated_by,
  };
}

export function toPolicyView(r: PolicyRecord): PolicyView {
  return { ...common(r), document: r.document };
}

export function toPolicySummaryView(r: PolicySummaryRecord): PolicySummaryView {
  return { ...common(r), rule_count: r.rule_count };
}
