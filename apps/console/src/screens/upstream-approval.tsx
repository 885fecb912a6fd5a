import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { ColumnDef } from '@tanstack/react-table';
import { useState } from 'react';
import { ErrorState, Loading, Section, when } from '../components/states';
import { Badge, Button, Dialog, Field, List } from '../components/ui';
import { api, send } from '../lib/api';
import type { ApprovalView, AutoApproveView, DiscoveredUpstream, UpstreamApprovalState } from '../lib/types';

/**
 * Approval of discovered upstreams (docs/fleet.md "Approval"): every role sees the state; principals holding
 * `upstreams:approve` get the decision dialog and the tenant's auto-approve list. The API enforces it anyway.
 */
const TONE: Record<UpstreamApprovalState, string> = { approved: 'ok', blocked: 'bad', pending: 'warn' };

const ACTIONS: { state: UpstreamApprovalState; label: string; variant: 'primary' | 'danger' | 'default' }[] =
  [
    { state: 'approved', label: 'Approve', variant: 'primary' },
    { state: 'blocked', label: 'Block', variant: 'danger' },
    { state: 'pending', label: 'Back to pending', variant: 'default' },
  ];

const approvalPath = (name: string) => `/v1/gateway/upstreams/${encodeURIComponent(name)}/approval`;

export function ApprovalBadge({ state }: { state: UpstreamApprovalState | undefined }) {
  return state ? <Badge tone={TONE[state]}>{state}</Badge> : <span className="muted">—</span>;
}

/** The row action opening the decision dialog (added to the table only for `upstreams:approve`). */
export function approvalActionColumn(
  decide: (upstream: DiscoveredUpstream) => void,
): ColumnDef<DiscoveredUpstream, unknown> {
  return {
    id: 'decide',
    header: 'Decision',
    enableSorting: false,
    cell: ({ row }) => (
      <Button aria-label={`Set approval of ${row.original.name}`} onClick={() => decide(row.original)}>
        Set approval
      </Button>
    ),
  };
}

export function ApprovalDialog({
  upstream,
  onClose,
}: {
  upstream: DiscoveredUpstream | null;
  onClose(): void;
}) {
  return (
    <Dialog
      open={!!upstream}
      onOpenChange={(open) => !open && onClose()}
      title={`Approval of ${upstream?.name ?? ''}`}
      description="A gateway routes approved upstreams only; an admin's decision overrides the auto-approve list."
    >
      {upstream && <Decide key={upstream.name} upstream={upstream} onDone={onClose} />}
    </Dialog>
  );
}

function Decide({ upstream, onDone }: { upstream: DiscoveredUpstream; onDone(): void }) {
  const client = useQueryClient();
  const [reason, setReason] = useState('');
  const current = useQuery({
    queryKey: ['approval', upstream.name],
    queryFn: () => api<ApprovalView>(approvalPath(upstream.name)),
  });
  const decide = useMutation({
    mutationFn: (state: UpstreamApprovalState) =>
      send<ApprovalView>('PUT', approvalPath(upstream.name), { state, reason: reason.trim() || undefined }),
    onSuccess: (view) => {
      client.setQueryData(['approval', upstream.name], view);
      void client.invalidateQueries({ queryKey: ['discovered'] });
      onDone();
    },
  });
  return (
    <>
      <p>
        <code className="wrap">{upstream.url}</code>
      </p>
      {current.isPending ? (
        <Loading />
      ) : current.isError ? (
        <ErrorState error={current.error} what="the approval" />
      ) : (
        <dl className="kv" data-testid="approval-current">
          <dt>State</dt>
          <dd>
            <ApprovalBadge state={current.data.state} />
          </dd>
          <dt>Reason</dt>
          <dd>{current.data.reason ?? '—'}</dd>
          <dt>Decided by</dt>
          <dd>
            {current.data.decided_by ?? '—'} {current.data.decided_at && when(current.data.decided_at)}
          </dd>
        </dl>
      )}
      <Field label="Reason (optional, recorded in the audit ledger)">
        {(id) => <input id={id} value={reason} size={40} onChange={(e) => setReason(e.target.value)} />}
      </Field>
      <span className="actions">
        {ACTIONS.map(({ state, label, variant }) => (
          <Button
            key={state}
            variant={variant}
            disabled={decide.isPending}
            onClick={() => decide.mutate(state)}
          >
            {label}
          </Button>
        ))}
      </span>
      {decide.isError && <ErrorState error={decide.error} />}
    </>
  );
}

/** The tenant's auto-approve host list, read-only (`PUT /v1/gateway/upstreams/auto-approve` edits it). */
export function AutoApproveHosts() {
  const list = useQuery({
    queryKey: ['auto-approve'],
    queryFn: () => api<AutoApproveView>('/v1/gateway/upstreams/auto-approve'),
  });
  return (
    <Section title="Auto-approve hosts">
      {list.isPending ? (
        <Loading />
      ) : list.isError ? (
        <ErrorState error={list.error} what="the auto-approve list" />
      ) : list.data.hosts.length ? (
        <p>
          <List items={list.data.hosts} />{' '}
          <span className="muted">
            set by {list.data.updated_by ?? '—'} {when(list.data.updated_at)}
          </span>
        </p>
      ) : (
        <p className="muted">No host is auto-approved: every upstream waits for a decision.</p>
      )}
    </Section>
  );
}
