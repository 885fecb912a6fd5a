import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { ColumnDef } from '@tanstack/react-table';
import { useState } from 'react';
import { ErrorState, Loading, Section, when } from '../components/states';
import { Badge, Button, Dialog, Field } from '../components/ui';
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

/** Close to the API's canonical spelling (the API decides): enough to spot a host that is already listed. */
const roughlyCanonical = (host: string) => host.trim().toLowerCase().replace(/\.$/, '');

/**
 * The tenant's auto-approve host list (`GET`/`PUT /v1/gateway/upstreams/auto-approve`, `upstreams:approve`):
 * listed with who set it, and edited here — each add or remove replaces the whole list, which the API
 * canonicalises (lower case, no trailing dot, IP literals normalised), de-duplicates, sorts and audits. A refusal
 * shows the API's message.
 */
export function AutoApproveHosts() {
  const client = useQueryClient();
  const [host, setHost] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const list = useQuery({
    queryKey: ['auto-approve'],
    queryFn: () => api<AutoApproveView>('/v1/gateway/upstreams/auto-approve'),
  });
  const save = useMutation({
    mutationFn: (hosts: string[]) =>
      send<AutoApproveView>('PUT', '/v1/gateway/upstreams/auto-approve', { hosts }),
    onSuccess: (view) => {
      client.setQueryData(['auto-approve'], view);
      void client.invalidateQueries({ queryKey: ['discovered'] });
      setHost('');
    },
  });
  const hosts = list.data?.hosts ?? [];
  const add = () => {
    setProblem(null);
    save.reset();
    const typed = host.trim();
    if (!typed) return;
    if (hosts.includes(roughlyCanonical(typed))) {
      setProblem(`${roughlyCanonical(typed)} is already in the list`);
      return;
    }
    save.mutate([...hosts, typed]);
  };
  return (
    <Section title="Auto-approve hosts">
      {list.isPending ? (
        <Loading />
      ) : list.isError ? (
        <ErrorState error={list.error} what="the auto-approve list" />
      ) : (
        <>
          {hosts.length ? (
            <>
              <ul className="hosts" aria-label="Auto-approved hosts">
                {hosts.map((item) => (
                  <li key={item}>
                    <code>{item}</code>{' '}
                    <Button
                      aria-label={`Remove ${item}`}
                      disabled={save.isPending}
                      onClick={() => {
                        setProblem(null);
                        save.reset();
                        save.mutate(hosts.filter((h) => h !== item));
                      }}
                    >
                      Remove
                    </Button>
                  </li>
                ))}
              </ul>
              <p className="muted small">
                set by {list.data.updated_by ?? '—'} {when(list.data.updated_at)}
              </p>
            </>
          ) : (
            <p className="muted">No host is auto-approved: every upstream waits for a decision.</p>
          )}
          <form
            className="filters"
            onSubmit={(event) => {
              event.preventDefault();
              add();
            }}
          >
            <Field label="Host to auto-approve">
              {(id) => (
                <input
                  id={id}
                  value={host}
                  size={32}
                  placeholder="mcp.example.com or *.corp.example"
                  onChange={(e) => setHost(e.target.value)}
                />
              )}
            </Field>
            <button type="submit" className="btn btn-primary" disabled={save.isPending || !host.trim()}>
              Add host
            </button>
          </form>
          {problem && (
            <div className="state error" role="alert">
              {problem}
            </div>
          )}
          {save.isError && <ErrorState error={save.error} />}
        </>
      )}
    </Section>
  );
}
