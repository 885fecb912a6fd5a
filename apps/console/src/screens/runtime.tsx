import { getRouteApi } from '@tanstack/react-router';
import type { ColumnDef } from '@tanstack/react-table';
import { DataTable } from '../components/data-table';
import { ErrorState, Loading, when } from '../components/states';
import { Badge, Search, Select } from '../components/ui';
import { useAuth } from '../lib/auth';
import { usePaged, useSearchPatch } from '../lib/hooks';
import type { AuditEntryView } from '../lib/types';

const DECISIONS = ['allowed', 'denied', 'redacted', 'rate_limited', 'warned', 'flagged'];
const routeApi = getRouteApi('/runtime');
export const decisionTone = (decision?: string) =>
  decision === 'denied' || decision === 'blocked'
    ? 'bad'
    : decision === 'allowed'
      ? 'ok'
      : decision
        ? 'warn'
        : 'neutral';

const columns: ColumnDef<AuditEntryView, unknown>[] = [
  {
    id: 'time',
    header: 'Time',
    accessorFn: (e) => e.event.timestamp,
    cell: ({ getValue }) => when(getValue() as string),
  },
  {
    id: 'decision',
    header: 'Decision',
    accessorFn: (e) => e.event.decision ?? '',
    cell: ({ row }) => (
      <Badge tone={decisionTone(row.original.event.decision)}>{row.original.event.decision ?? '—'}</Badge>
    ),
  },
  { id: 'type', header: 'Event', accessorFn: (e) => e.event.type },
  { id: 'surface', header: 'By', accessorFn: (e) => e.event.actor.role },
  { id: 'server', header: 'Server', accessorFn: (e) => e.event.server ?? '' },
  { id: 'tool', header: 'Tool', accessorFn: (e) => e.event.tool ?? '' },
  { id: 'agent', header: 'Agent', accessorFn: (e) => e.event.agent ?? '' },
  { id: 'rule', header: 'Rule', accessorFn: (e) => e.event.rule_id ?? '' },
  { id: 'reason', header: 'Reason', accessorFn: (e) => e.event.reason ?? '' },
];

/** Gateway and proxy decisions from the audit ledger, refreshed every 5 s while "live" is on. */
export function RuntimeScreen() {
  const { can } = useAuth();
  const search = routeApi.useSearch();
  const set = useSearchPatch();
  const live = search.live !== 'off';
  const list = usePaged<AuditEntryView>(
    '/v1/audit',
    { origin: 'runtime', decision: search.decision, agent: search.agent, tool: search.tool },
    { refetchInterval: live && can('audit:read') ? 5000 : false },
  );
  return (
    <>
      <h1>Runtime decisions</h1>
      <div className="filters" role="search">
        <Select
          label="Decision"
          value={search.decision}
          options={DECISIONS}
          onChange={(decision) => set({ decision })}
        />
        <Search
          label="Agent"
          placeholder="agent name"
          value={search.agent}
          onChange={(agent) => set({ agent })}
        />
        <Search label="Tool" placeholder="tool name" value={search.tool} onChange={(tool) => set({ tool })} />
        <label className="check">
          <input
            type="checkbox"
            checked={live}
            onChange={(e) => set({ live: e.target.checked ? undefined : 'off' })}
          />{' '}
          Live (every 5 s)
        </label>
      </div>
      {!can('audit:read') ? (
        <p className="state empty">
          Runtime decisions are in the audit ledger, which needs audit:read (analyst or admin).
        </p>
      ) : list.isPending ? (
        <Loading />
      ) : list.isError ? (
        <ErrorState error={list.error} what="runtime decisions" />
      ) : (
        <DataTable
          label="Runtime decisions"
          rows={list.rows}
          columns={columns}
          rowKey={(e) => String(e.seq)}
          empty={
            search.decision || search.agent || search.tool
              ? 'No decision matches these filters.'
              : 'No gateway or proxy decision recorded yet.'
          }
          hasMore={list.hasNextPage}
          loadingMore={list.isFetchingNextPage}
          onLoadMore={() => void list.fetchNextPage()}
        />
      )}
    </>
  );
}
