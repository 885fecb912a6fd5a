import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { PolicyView } from '../../../libs/contracts/src/index.js';
import {
  canonicalJson,
  compilePolicy,
  LIMITS,
  PolicyCompileError,
  type PolicyDocument,
} from '../../../libs/policy/src/index.js';
import type { Principal } from '../../core/auth/principal.js';
import { Transactions, type Tx } from '../../core/database/transactions.js';
import { AuditService } from '../audit/audit.service.js';
import type { DeletePolicyDto, PolicyDto, UpdatePolicyDto } from './dto/policy.dto.js';
import { effectivePolicy, policyProblems } from './effective-policy.js';
import { invalidPolicy, nameTaken, policyNotFound, versionMismatch } from './policy.errors.js';
import { toPolicyView } from './policy.mapper.js';
import { BundleVersions } from './bundle-versions.js';
import { PolicyRepository, type PolicyContent, type PolicyRecord } from './policy.repository.js';
import { expectedVersion } from './preconditions.js';

type Action = 'policy.created' | 'policy.updated' | 'policy.deleted';

/**
 * Policy writes. Each one, in one transaction: takes the tenant's bundle lock (so a tenant's writes apply one at
 * a time on every replica), appends an immutable version, recomputes the effective policy and stores it as the
 * next bundle version, and records the action in the audit ledger. A refused write (invalid document, version
 * mismatch, duplicate name, failed audit) changes nothing at all.
 */
@Injectable()
export class PolicyWriteService {
  constructor(
    private readonly policies: PolicyRepository,
    private readonly transactions: Transactions,
    private readonly audit: AuditService,
    private readonly versions: BundleVersions,
  ) {}

  async create(principal: Principal, input: PolicyDto): Promise<PolicyView> {
    const content = validated(input);
    return this.transactions.run(async (tx) => {
      const bundle = await this.policies.lockBundle(principal.tenantId, tx);
      if (await this.policies.nameTaken(principal.tenantId, content.name, null, tx)) {
        throw nameTaken(content.name);
      }
      const id = randomUUID();
      return this.commit(
        principal,
        tx,
        bundle,
        { id, version: 1, deleted: false, ...content },
        'policy.created',
      );
    });
  }

  /** Full replacement (PUT). Re-sending the current content is a no-op: no version, no bundle change. */
  async update(
    principal: Principal,
    id: string,
    input: UpdatePolicyDto,
    ifMatch?: string,
  ): Promise<PolicyView> {
    const expected = expectedVersion(ifMatch, input.expected_version);
    const content = validated(input);
    return this.transactions.run(async (tx) => {
      const bundle = await this.policies.lockBundle(principal.tenantId, tx);
      const current = await this.live(principal, id, expected, tx);
      const changed = changedFields(current, content);
      if (changed.length === 0) return toPolicyView(current);
      if (
        content.name !== current.name &&
        (await this.policies.nameTaken(principal.tenantId, content.name, id, tx))
      ) {
        throw nameTaken(content.name);
      }
      const next = {
        id,
        version: current.version + 1,
        deleted: false,
        created_at: current.created_at,
        ...content,
      };
      return this.commit(principal, tx, bundle, next, 'policy.updated', changed);
    });
  }

  /** Writes a tombstone version; the policy leaves the effective policy, its history stays readable. */
  async remove(
    principal: Principal,
    id: string,
    input: DeletePolicyDto,
    ifMatch?: string,
  ): Promise<PolicyView> {
    const expected = expectedVersion(ifMatch, input.expected_version);
    return this.transactions.run(async (tx) => {
      const bundle = await this.policies.lockBundle(principal.tenantId, tx);
      const current = await this.live(principal, id, expected, tx);
      const { name, description, enabled, document, bindings, created_at } = current;
      const tombstone = {
        id,
        version: current.version + 1,
        deleted: true,
        created_at,
        name,
        description,
        enabled,
        document,
        bindings,
      };
      return this.commit(principal, tx, bundle, tombstone, 'policy.deleted');
    });
  }

  /** The policy's current version, if it exists in the tenant, is not deleted and is at the expected version. */
  private async live(
    principal: Principal,
    id: string,
    expected: number[] | '*' | undefined,
    tx: Tx,
  ): Promise<PolicyRecord> {
    const current = await this.policies.findCurrent(principal.tenantId, id, tx);
    if (!current || current.deleted) throw policyNotFound();
    if (Array.isArray(expected) && !expected.includes(current.version)) {
      throw versionMismatch(expected[0], current.version);
    }
    return current;
  }

  /**
   * Appends the version, stores the new effective policy as the next bundle version, audits. Runs under the
   * bundle lock, so `bundle + 1` is the version {@link PolicyRepository.bumpBundle} returns.
   */
  private async commit(
    principal: Principal,
    tx: Tx,
    bundle: number,
    /** `created_at`: the policy's, for an existing one; a new one is created now. */
    row: PolicyContent & { id: string; version: number; deleted: boolean; created_at?: Date },
    action: Action,
    changed: string[] = [],
  ): Promise<PolicyView> {
    const tenantId = principal.tenantId;
    const at = new Date();
    await this.policies.insertVersion(
      tenantId,
      { ...row, bundle_version: bundle + 1, at, by: principal.subject },
      tx,
    );
    const effective = effectivePolicy(await this.policies.listEnabled(tenantId, tx));
    assertCompiles(effective);
    const bundleVersion = await this.policies.bumpBundle(tenantId, effective, at, tx);
    // Polls that read the version from now until the commit's notification arrives are not remembered.
    this.versions.forget(tenantId);
    await this.audit.record(
      principal,
      {
        type: action,
        resource_type: 'policy',
        resource_id: row.id,
        details: {
          name: row.name,
          version: row.version,
          enabled: row.enabled,
          rules: row.document.rules.length,
          bundle_version: bundleVersion,
          ...(action === 'policy.updated' ? { changed } : {}),
        },
      },
      tx,
    );
    return toPolicyView({
      ...row,
      tenant_id: tenantId,
      bundle_version: bundleVersion,
      created_at: row.created_at ?? at,
      updated_at: at,
      updated_by: principal.subject,
    });
  }
}

/** The content to store, or a 400 naming every problem's rule and field. */
function validated(input: PolicyDto): PolicyContent {
  const problems = policyProblems(input.name, input.document, input.bindings);
  if (problems.length > 0) throw invalidPolicy(problems);
  return {
    name: input.name,
    description: input.description ?? null,
    enabled: input.enabled ?? true,
    document: input.document,
    bindings: input.bindings ?? null,
  };
}

function changedFields(current: PolicyContent, next: PolicyContent): string[] {
  const same = (a: unknown, b: unknown) => canonicalJson(a ?? null) === canonicalJson(b ?? null);
  return (['name', 'description', 'enabled', 'document', 'bindings'] as const).filter(
    (field) => !same(current[field], next[field]),
  );
}

/**
 * The effective policy must compile, or no bundle could be signed for it. Each policy compiled on its own; what
 * can still fail is the sum: more rules than one document may hold.
 */
function assertCompiles(effective: PolicyDocument): void {
  if (effective.rules.length > LIMITS.maxRules) {
    throw invalidPolicy([
      {
        where: 'document.rules',
        message: `the tenant's enabled policies would have ${effective.rules.length} rules in total, more than the limit of ${LIMITS.maxRules}`,
      },
    ]);
  }
  try {
    compilePolicy(effective);
  } catch (error) {
    if (!(error instanceof PolicyCompileError)) throw error;
    throw invalidPolicy(error.problems.map((p) => ({ ...p, where: `effective policy: ${p.where}` })));
  }
}
