import { useQuery } from '@tanstack/react-query';
import { Link, getRouteApi } from '@tanstack/react-router';
import type { ColumnDef } from '@tanstack/react-table';
import { DataTable } from '../components/data-table';
import { ErrorState, Loading, Section, when } from '../components/states';
import { Badge, List, Search, Select } from '../components/ui';
import { api } from '../lib/api';
import { isStale, usePaged, useSearchPatch } from '../lib/hooks';
import type { FleetAgentDetailView, FleetAgentServerView, FleetAgentView } from '../lib/types';
import { CLIENTS, TRANSPORTS } from '../../../../libs/contracts/src/fleet.js';

const fleetRoute = getRouteApi('/fleet');

const columns: ColumnDef<FleetAgentView, unknown>[] = [
  {
    id: 'endpoint',
    header: 'Endpoint',
    accessorFn: (row) => row.endpoint.hostname ?? row.source_id,
    cell: ({ row }) => (
      <>
        {row.original.endpoint.hostname ?? '—'} <span className="muted">{row.original.source_id}</span>
      </>
    ),
  },
  { id: 'client', header: 'Client', accessorKey: 'client' },
  {
    id: 'name',
    header: 'Agent',
    accessorKey: 'name',
    cell: ({ row }) => (
      <Link to="/fleet/$id" params={{ id: row.original.id }}>
        {row.original.name}
      </Link>
    ),
  },
  { id: 'servers', header: 'Servers', accessorKey: 'server_count' },
  { id: 'owner', header: 'Owner', accessorFn: (row) => row.endpoint.owner ?? '' },
  { id: 'environment', header: 'Env', accessorFn: (row) => row.endpoint.environment ?? '' },
  {
    id: 'synced',
    header: 'Last synced',
    accessorFn: (row) => row.endpoint.last_synced_at,
    cell: ({ row }) => (
      <>
        {when(row.original.endpoint.last_synced_at)}{' '}
        {isStale(row.original.endpoint.last_synced_at) && <Badge tone="warn">stale</Badge>}
      </>
    ),
  },
  {
    id: 'seen',
    header: 'Last seen',
    accessorKey: 'last_seen_at',
    cell: ({ getValue }) => when(getValue() as string),
  },
];

export function FleetScreen() {
  const search = fleetRoute.useSearch();
  const set = useSearchPatch();
  const list = usePaged<FleetAgentView>('/v1/fleet', {
    q: search.q,
    client: search.client,
    transport: search.transport,
    environment: search.environment,
  });
  const rows =
    search.stale === 'yes' ? list.rows.filter((row) => isStale(row.endpoint.last_synced_at)) : list.rows;
  return (
    <>
      <h1>Fleet</h1>
      <p className="muted">
        Endpoints → MCP clients (agents) → servers. Endpoints not synced for 7 days are stale.
      </p>
      <div className="filters" role="search">
        <Search value={search.q} onChange={(q) => set({ q })} />
        <Select
          label="Client"
          value={search.client}
          options={CLIENTS}
          onChange={(client) => set({ client })}
        />
        <Select
          label="Transport"
          value={search.transport}
          options={TRANSPORTS}
          onChange={(transport) => set({ transport })}
        />
        <Select
          label="Stale only"
          value={search.stale}
          options={['yes']}
          onChange={(stale) => set({ stale })}
        />
      </div>
      {list.isPending ? (
        <Loading />
      ) : list.isError ? (
        <ErrorState error={list.error} what="the fleet" />
      ) : (
        <DataTable
          label="Fleet agents"
          rows={rows}
          columns={columns}
          rowKey={(row) => row.id}
          empty={
            search.q || search.client || search.transport || search.stale
              ? 'No agent matches these filters.'
              : 'No endpoint has synced yet. Run `agent-bom agents --push-url …` on an endpoint.'
          }
          hasMore={list.hasNextPage}
          loadingMore={list.isFetchingNextPage}
          onLoadMore={() => void list.fetchNextPage()}
        />
      )}
    </>
  );
}

function ServerCard({ server }: { server: FleetAgentServerView }) {
  return (
    <article className="card server" aria-label={`server ${server.name}`}>
      <h3>
        {server.name} <Badge>{server.transport}</Badge>{' '}
        <Badge tone={server.auth_mode === 'none' ? 'neutral' : 'warn'}>auth: {server.auth_mode}</Badge>
      </h3>
      <dl className="kv">
        <dt>{server.url ? 'URL' : 'Command'}</dt>
        <dd>
          <code className="wrap">
            {server.url ?? [server.command, ...(server.args ?? [])].filter(Boolean).join(' ')}
          </code>
        </dd>
        <dt>Declared tools</dt>
        <dd>
          <List items={server.declared_tools} />
        </dd>
        {server.introspection?.tools && (
          <>
            <dt>Introspected tools</dt>
            <dd>
              <List items={server.introspection.tools} />
            </dd>
          </>
        )}
        <dt>Credential env names</dt>
        <dd>
          <List items={server.credential_env_names} />
        </dd>
        <dt>Credential header names</dt>
        <dd>
          <List items={server.credential_header_names} />
        </dd>
        <dt>Config</dt>
        <dd>
          <code className="wrap">{server.config_path ?? '—'}</code>
        </dd>
      </dl>
    </article>
  );
}

export function AgentScreen() {
  const { id } = getRouteApi('/fleet/$id').useParams();
  const agent = useQuery({
    queryKey: ['fleet', id],
    queryFn: () => api<FleetAgentDetailView>(`/v1/fleet/${encodeURIComponent(id)}`),
  });
  if (agent.isPending) return <Loading />;
  if (agent.isError) return <ErrorState error={agent.error} what="this agent" />;
  const a = agent.data;
  return (
    <>
      <p>
        <Link to="/fleet">← Fleet</Link>
      </p>
      <h1>
        {a.name} <span className="muted">on {a.endpoint.hostname ?? a.source_id}</span>
      </h1>
      <Section title="Endpoint">
        <dl className="kv">
          <dt>Source id</dt>
          <dd>
            <code>{a.source_id}</code>
          </dd>
          <dt>Client</dt>
          <dd>{a.client}</dd>
          <dt>OS</dt>
          <dd>{[a.endpoint.os, a.endpoint.os_release].filter(Boolean).join(' ') || '—'}</dd>
          <dt>Owner</dt>
          <dd>{a.endpoint.owner ?? '—'}</dd>
          <dt>Last synced</dt>
          <dd>
            {when(a.endpoint.last_synced_at)}{' '}
            {isStale(a.endpoint.last_synced_at) && <Badge tone="warn">stale</Badge>}
          </dd>
          <dt>Warnings</dt>
          <dd>
            {a.endpoint.warnings.length
              ? a.endpoint.warnings.map((w) => `${w.path}: ${w.message}`).join('; ')
              : '—'}
          </dd>
        </dl>
      </Section>
      <Section title={`Servers (${a.servers.length})`}>
        {a.servers.length ? (
          <div className="cards">
            {a.servers.map((server) => (
              <ServerCard key={server.name} server={server} />
            ))}
          </div>
        ) : (
          <p className="muted">This agent declares no MCP server.</p>
        )}
      </Section>
    </>
  );
}
