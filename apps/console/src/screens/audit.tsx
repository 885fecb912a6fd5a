import { useQuery } from '@tanstack/react-query';
import { Link, getRouteApi } from '@tanstack/react-router';
import type { ColumnDef } from '@tanstack/react-table';
import { DataTable } from '../components/data-table';
import { ErrorState, Loading, Section, when } from '../components/states';
import { Badge, Button, Search, Select } from '../components/ui';
import { api } from '../lib/api';
import { useAuth } from '../lib/auth';
import { usePaged, useSearchPatch } from '../lib/hooks';
import type { AuditEntryView, VerifyReport } from '../lib/types';
import { decisionTone } from './runtime';

const routeApi = getRouteApi('/audit');

const columns: ColumnDef<AuditEntryView, unknown>[] = [
  {
    id: 'seq',
    header: 'Seq',
    accessorKey: 'seq',
    cell: ({ row }) => (
      <Link
        to="/audit"
        search={(previous: Record<string, string | undefined>) => ({
          ...previous,
          seq: String(row.original.seq),
        })}
      >
        {row.original.seq}
      </Link>
    ),
  },
  {
    id: 'time',
    header: 'Time',
    accessorFn: (e) => e.event.timestamp,
    cell: ({ getValue }) => when(getValue() as string),
  },
  { id: 'type', header: 'Type', accessorFn: (e) => e.event.type },
  { id: 'origin', header: 'Origin', accessorFn: (e) => e.event.origin },
  { id: 'actor', header: 'Actor', accessorFn: (e) => `${e.event.actor.subject} (${e.event.actor.role})` },
  {
    id: 'decision',
    header: 'Decision',
    accessorFn: (e) => e.event.decision ?? '',
    cell: ({ row }) =>
      row.original.event.decision ? (
        <Badge tone={decisionTone(row.original.event.decision)}>{row.original.event.decision}</Badge>
      ) : null,
  },
  {
    id: 'resource',
    header: 'Resource',
    accessorFn: (e) => [e.event.resource_type, e.event.resource_id ?? e.event.tool].filter(Boolean).join(' '),
  },
];

function Verify() {
  const verify = useQuery({
    queryKey: ['audit-verify'],
    queryFn: () => api<VerifyReport>('/v1/audit/verify'),
    enabled: false,
  });
  return (
    <Section
      title="Chain verification"
      actions={
        <>
          <Button onClick={() => void verify.refetch()} disabled={verify.isFetching}>
            {verify.isFetching ? 'Verifying…' : 'Verify chain'}
          </Button>
          <a className="btn" href="/v1/audit/export" download>
            Download signed export
          </a>
        </>
      }
    >
      {verify.isError && <ErrorState error={verify.error} what="verification" />}
      {verify.data && (
        <p role="status" data-testid="verify-result">
          {verify.data.ok ? <Badge tone="ok">chain intact</Badge> : <Badge tone="bad">chain broken</Badge>}{' '}
          {verify.data.entries_verified} entries verified (seq {verify.data.verified_from}–
          {verify.data.verified_to}), {verify.data.checkpoints_verified} checkpoint(s)
          {verify.data.first_broken && (
            <>
              {' '}
              · first broken: <code>{JSON.stringify(verify.data.first_broken)}</code>
            </>
          )}
        </p>
      )}
      {!verify.data && !verify.isError && (
        <p className="muted">Recomputes every hash of the tenant&apos;s ledger on the server.</p>
      )}
    </Section>
  );
}

export function AuditScreen() {
  const { can } = useAuth();
  const search = routeApi.useSearch();
  const set = useSearchPatch();
  const list = usePaged<AuditEntryView>('/v1/audit', {
    type: search.type,
    origin: search.origin,
    decision: search.decision,
    agent: search.agent,
    tool: search.tool,
  });
  const selected = list.rows.find((e) => String(e.seq) === search.seq);
  if (!can('audit:read')) {
    return (
      <>
        <h1>Audit</h1>
        <p className="state empty">The audit ledger needs audit:read (analyst or admin).</p>
      </>
    );
  }
  return (
    <>
      <h1>Audit</h1>
      <Verify />
      <div className="filters" role="search">
        <Search
          label="Type"
          placeholder="e.g. policy.updated"
          value={search.type}
          onChange={(type) => set({ type })}
        />
        <Select
          label="Origin"
          value={search.origin}
          options={['runtime', 'control_plane']}
          onChange={(origin) => set({ origin })}
        />
        <Search
          label="Agent"
          placeholder="agent name"
          value={search.agent}
          onChange={(agent) => set({ agent })}
        />
        <Search label="Tool" placeholder="tool name" value={search.tool} onChange={(tool) => set({ tool })} />
      </div>
      {list.isPending ? (
        <Loading />
      ) : list.isError ? (
        <ErrorState error={list.error} what="the audit ledger" />
      ) : (
        <DataTable
          label="Audit ledger"
          rows={list.rows}
          columns={columns}
          rowKey={(e) => String(e.seq)}
          onRowClick={(e) => set({ seq: String(e.seq) })}
          empty="No audit entry matches these filters."
          hasMore={list.hasNextPage}
          loadingMore={list.isFetchingNextPage}
          onLoadMore={() => void list.fetchNextPage()}
        />
      )}
      {search.seq && (
        <Section
          title={`Entry ${search.seq}`}
          actions={<Button onClick={() => set({ seq: undefined })}>Close</Button>}
        >
          {selected ? (
            <>
              <dl className="kv">
                <dt>Hash</dt>
                <dd>
                  <code className="wrap">{selected.hash}</code>
                </dd>
                <dt>Previous hash</dt>
                <dd>
                  <code className="wrap">{selected.prev_hash}</code>
                </dd>
              </dl>
              <pre className="json" data-testid="audit-detail">
                {JSON.stringify(selected.event, null, 2)}
              </pre>
            </>
          ) : (
            <p className="muted">Entry {search.seq} is not in the loaded rows; clear filters or load more.</p>
          )}
        </Section>
      )}
    </>
  );
}
