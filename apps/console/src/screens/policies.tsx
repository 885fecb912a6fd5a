import { Link, getRouteApi } from '@tanstack/react-router';
import type { ColumnDef } from '@tanstack/react-table';
import { DataTable } from '../components/data-table';
import { ErrorState, Loading, when } from '../components/states';
import { Badge, Search, Select } from '../components/ui';
import { Can } from '../lib/auth';
import { usePaged, useSearchPatch } from '../lib/hooks';
import type { PolicySummaryView } from '../lib/types';

const routeApi = getRouteApi('/policies');

const columns: ColumnDef<PolicySummaryView, unknown>[] = [
  {
    id: 'name',
    header: 'Policy',
    accessorKey: 'name',
    cell: ({ row }) => (
      <Link to="/policies/$id" params={{ id: row.original.id }}>
        {row.original.name}
      </Link>
    ),
  },
  {
    id: 'enabled',
    header: 'State',
    accessorFn: (p) => (p.enabled ? 'enabled' : 'disabled'),
    cell: ({ row }) => (
      <Badge tone={row.original.enabled ? 'ok' : 'neutral'}>
        {row.original.enabled ? 'enabled' : 'disabled'}
      </Badge>
    ),
  },
  { id: 'rules', header: 'Rules', accessorKey: 'rule_count' },
  { id: 'version', header: 'Version', accessorKey: 'version' },
  { id: 'description', header: 'Description', accessorFn: (p) => p.description ?? '' },
  { id: 'by', header: 'Updated by', accessorKey: 'updated_by' },
  {
    id: 'updated',
    header: 'Updated',
    accessorKey: 'updated_at',
    cell: ({ getValue }) => when(getValue() as string),
  },
];

export function PoliciesScreen() {
  const search = routeApi.useSearch();
  const set = useSearchPatch();
  const list = usePaged<PolicySummaryView>('/v1/gateway/policies');
  const q = search.q?.toLowerCase();
  const rows = list.rows.filter(
    (p) =>
      (!q || p.name.toLowerCase().includes(q) || (p.description ?? '').toLowerCase().includes(q)) &&
      (!search.enabled || String(p.enabled) === (search.enabled === 'enabled' ? 'true' : 'false')),
  );
  return (
    <>
      <h1>Policies</h1>
      <div className="filters" role="search">
        <Search value={search.q} onChange={(value) => set({ q: value })} />
        <Select
          label="State"
          value={search.enabled}
          options={['enabled', 'disabled']}
          onChange={(enabled) => set({ enabled })}
        />
        <Can permission="policy:write">
          <Link to="/policies/new" className="btn btn-primary">
            New policy
          </Link>
        </Can>
      </div>
      {list.isPending ? (
        <Loading />
      ) : list.isError ? (
        <ErrorState error={list.error} what="policies" />
      ) : (
        <DataTable
          label="Policies"
          rows={rows}
          columns={columns}
          rowKey={(p) => p.id}
          empty={
            q || search.enabled
              ? 'No policy matches these filters.'
              : 'No policy yet: gateways and proxies use the default effect.'
          }
          hasMore={list.hasNextPage}
          loadingMore={list.isFetchingNextPage}
          onLoadMore={() => void list.fetchNextPage()}
        />
      )}
    </>
  );
}
