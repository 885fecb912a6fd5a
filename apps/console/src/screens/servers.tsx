import { useQuery } from '@tanstack/react-query';
import { Link, getRouteApi } from '@tanstack/react-router';
import type { ColumnDef } from '@tanstack/react-table';
import { Tabs } from 'radix-ui';
import { useMemo, useState } from 'react';
import { DataTable } from '../components/data-table';
import { ErrorState, Loading, Section, when } from '../components/states';
import { List, Search, Select } from '../components/ui';
import { api } from '../lib/api';
import { useAuth } from '../lib/auth';
import { usePaged, useSearchPatch } from '../lib/hooks';
import type { DiscoveredUpstream, DiscoveryAnswer, FleetServerView } from '../lib/types';
import { AUTH_MODES, TRANSPORTS } from '../../../../libs/contracts/src/fleet.js';
import { ApprovalBadge, ApprovalDialog, AutoApproveHosts, approvalActionColumn } from './upstream-approval';

const routeApi = getRouteApi('/servers');

const serverColumns: ColumnDef<FleetServerView, unknown>[] = [
  {
    id: 'name',
    header: 'Server',
    accessorKey: 'name',
    cell: ({ row }) => (
      <Link to="/graph" search={{ node: `server:${row.original.name}` }}>
        {row.original.name}
      </Link>
    ),
  },
  { id: 'transport', header: 'Transport', accessorKey: 'transport' },
  {
    id: 'target',
    header: 'Command / URL',
    accessorFn: (row) => row.url ?? row.command ?? '',
    cell: ({ getValue }) => <code className="wrap">{String(getValue() || '—')}</code>,
  },
  {
    id: 'tools',
    header: 'Tools',
    accessorFn: (row) => row.tools.length,
    cell: ({ row }) => <List items={row.original.tools.slice(0, 6)} />,
  },
  { id: 'auth', header: 'Auth', accessorFn: (row) => row.auth_modes.join(', ') },
  {
    id: 'credentials',
    header: 'Credential names',
    accessorFn: (row) => row.credential_env_names.length + row.credential_header_names.length,
    cell: ({ row }) => (
      <List items={[...row.original.credential_env_names, ...row.original.credential_header_names]} />
    ),
  },
  { id: 'endpoints', header: 'Endpoints', accessorKey: 'endpoint_count' },
  {
    id: 'seen',
    header: 'Last seen',
    accessorKey: 'last_seen_at',
    cell: ({ getValue }) => when(getValue() as string),
  },
];

const upstreamColumns: ColumnDef<DiscoveredUpstream, unknown>[] = [
  { id: 'name', header: 'Name', accessorKey: 'name' },
  {
    id: 'url',
    header: 'URL',
    accessorKey: 'url',
    cell: ({ getValue }) => <code className="wrap">{String(getValue())}</code>,
  },
  { id: 'transport', header: 'Transport', accessorKey: 'transport' },
  {
    id: 'approval',
    header: 'Approval',
    accessorFn: (row) => row.approval ?? '',
    cell: ({ row }) => <ApprovalBadge state={row.original.approval} />,
  },
  {
    id: 'sources',
    header: 'Seen on',
    accessorFn: (row) => row.source_agents.length,
    cell: ({ row }) => <List items={row.original.source_agents} />,
  },
];

export function ServersScreen() {
  const search = routeApi.useSearch();
  const set = useSearchPatch();
  const servers = usePaged<FleetServerView>('/v1/fleet/servers', {
    q: search.q,
    transport: search.transport,
    auth_mode: search.auth_mode,
  });
  const discovered = useQuery({
    queryKey: ['discovered'],
    queryFn: () => api<DiscoveryAnswer>('/v1/gateway/upstreams/discovered'),
  });
  const tab = search.tab === 'upstreams' ? 'upstreams' : 'servers';
  const approver = useAuth().can('upstreams:approve');
  const [deciding, setDeciding] = useState<DiscoveredUpstream | null>(null);
  const columns = useMemo(
    () => (approver ? [...upstreamColumns, approvalActionColumn(setDeciding)] : upstreamColumns),
    [approver],
  );
  return (
    <>
      <h1>MCP servers</h1>
      <Tabs.Root value={tab} onValueChange={(value) => set({ tab: value === 'servers' ? undefined : value })}>
        <Tabs.List className="tabs" aria-label="Server views">
          <Tabs.Trigger value="servers">Across the fleet</Tabs.Trigger>
          <Tabs.Trigger value="upstreams">Discovered upstreams</Tabs.Trigger>
        </Tabs.List>
        <Tabs.Content value="servers">
          <div className="filters" role="search">
            <Search value={search.q} onChange={(q) => set({ q })} />
            <Select
              label="Transport"
              value={search.transport}
              options={TRANSPORTS}
              onChange={(transport) => set({ transport })}
            />
            <Select
              label="Auth mode"
              value={search.auth_mode}
              options={AUTH_MODES}
              onChange={(auth_mode) => set({ auth_mode })}
            />
          </div>
          {servers.isPending ? (
            <Loading />
          ) : servers.isError ? (
            <ErrorState error={servers.error} what="servers" />
          ) : (
            <DataTable
              label="MCP servers"
              rows={servers.rows}
              columns={serverColumns}
              rowKey={(row) => `${row.name}\u0000${row.transport}\u0000${row.url ?? row.command ?? ''}`}
              empty={
                search.q || search.transport || search.auth_mode
                  ? 'No server matches these filters.'
                  : 'No MCP server in the fleet yet.'
              }
              hasMore={servers.hasNextPage}
              loadingMore={servers.isFetchingNextPage}
              onLoadMore={() => void servers.fetchNextPage()}
            />
          )}
        </Tabs.Content>
        <Tabs.Content value="upstreams">
          {discovered.isPending ? (
            <Loading />
          ) : discovered.isError ? (
            <ErrorState error={discovered.error} what="discovered upstreams" />
          ) : (
            <>
              <p className="muted">
                Remote (http, https, sse) servers the fleet reports, as gateways see them. Generated{' '}
                {when(discovered.data.generated_at)}.
              </p>
              <DataTable
                label="Discovered upstreams"
                rows={discovered.data.upstreams}
                columns={columns}
                rowKey={(row) => row.name}
                empty="No remote MCP server discovered yet."
              />
              {approver && <AutoApproveHosts />}
              <Section title={`Conflicts (${discovered.data.conflicts.length})`}>
                {discovered.data.conflicts.length ? (
                  <ul className="conflicts">
                    {discovered.data.conflicts.map((conflict) => (
                      <li key={conflict.name}>
                        <code>{conflict.name}</code> is reported for {conflict.upstreams.length} URLs:
                        <ul>
                          {conflict.upstreams.map((upstream) => (
                            <li key={upstream.name}>
                              <code>{upstream.name}</code> → <code className="wrap">{upstream.url}</code>
                            </li>
                          ))}
                        </ul>
                      </li>
                    ))}
                  </ul>
                ) : (
                  <p className="muted">No two URLs share a name.</p>
                )}
              </Section>
            </>
          )}
        </Tabs.Content>
      </Tabs.Root>
      <ApprovalDialog upstream={deciding} onClose={() => setDeciding(null)} />
    </>
  );
}
