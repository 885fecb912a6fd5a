import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, getRouteApi, useNavigate } from '@tanstack/react-router';
import type { ColumnDef } from '@tanstack/react-table';
import { lazy, Suspense } from 'react';
import { DataTable } from '../components/data-table';
import { ErrorState, Loading, ScansUnavailable, Section, when } from '../components/states';
import { Badge, Button, Search, Select } from '../components/ui';
import { api, isNotFound, qs, send, type Page } from '../lib/api';
import { useAuth } from '../lib/auth';
import { useOptional } from '../lib/hooks';
import type { FindingView, GraphAnswer } from '../lib/types';

const GraphView = lazy(() => import('../components/graph-view').then((m) => ({ default: m.GraphView })));
const SEVERITIES = ['critical', 'high', 'medium', 'low', 'unknown'];
const STATUSES = ['open', 'acknowledged', 'false_positive', 'fixed'];
const routeApi = getRouteApi('/findings');

export const packageName = (f: FindingView) =>
  typeof f.package === 'string' ? f.package : [f.package?.name, f.package?.version].filter(Boolean).join('@');
const tone = (severity: string) =>
  severity === 'critical' || severity === 'high' ? 'bad' : severity === 'medium' ? 'warn' : 'neutral';

const columns: ColumnDef<FindingView, unknown>[] = [
  {
    id: 'severity',
    header: 'Severity',
    accessorKey: 'severity',
    cell: ({ row }) => <Badge tone={tone(row.original.severity)}>{row.original.severity}</Badge>,
  },
  {
    id: 'title',
    header: 'Finding',
    accessorFn: (f) => f.title ?? f.vulnerability_id ?? f.id,
    cell: ({ row }) => (
      <Link to="/findings/$id" params={{ id: row.original.id }}>
        {row.original.title ?? row.original.vulnerability_id ?? row.original.id}
      </Link>
    ),
  },
  { id: 'package', header: 'Package', accessorFn: packageName },
  { id: 'server', header: 'Server', accessorFn: (f) => f.server ?? '' },
  { id: 'status', header: 'Status', accessorFn: (f) => f.status ?? 'open' },
  {
    id: 'seen',
    header: 'First seen',
    accessorFn: (f) => f.first_seen_at ?? '',
    cell: ({ getValue }) => when(getValue() as string),
  },
];

export function FindingsScreen() {
  const search = routeApi.useSearch();
  const navigate = useNavigate({ from: '/findings' });
  const set = (patch: Record<string, string | undefined>) =>
    void navigate({ search: (previous: Record<string, string | undefined>) => ({ ...previous, ...patch }) });
  const path =
    '/v1/findings' + qs({ q: search.q, severity: search.severity, status: search.status, limit: 200 });
  const findings = useOptional<Page<FindingView>>(path);
  return (
    <>
      <h1>Findings</h1>
      <div className="filters" role="search">
        <Search value={search.q} onChange={(q) => set({ q })} />
        <Select
          label="Severity"
          value={search.severity}
          options={SEVERITIES}
          onChange={(severity) => set({ severity })}
        />
        <Select
          label="Status"
          value={search.status}
          options={STATUSES}
          onChange={(status) => set({ status })}
        />
      </div>
      {findings.isPending ? (
        <Loading />
      ) : findings.isError ? (
        <ErrorState error={findings.error} what="findings" />
      ) : !findings.data.available ? (
        <ScansUnavailable path="/v1/findings" />
      ) : (
        <DataTable
          label="Findings"
          rows={findings.data.data.items}
          columns={columns}
          rowKey={(f) => f.id}
          empty={
            search.q || search.severity || search.status
              ? 'No finding matches these filters.'
              : 'No findings: push scan results first.'
          }
        />
      )}
    </>
  );
}

export function FindingScreen() {
  const { id } = getRouteApi('/findings/$id').useParams();
  const { can } = useAuth();
  const client = useQueryClient();
  const navigate = useNavigate();
  const finding = useOptional<FindingView>(`/v1/findings/${encodeURIComponent(id)}`);
  const f = finding.data?.data;
  const root = f ? `vulnerability:${f.vulnerability_id ?? f.id}` : undefined;
  const impact = useQuery({
    queryKey: ['impact', root],
    enabled: !!root,
    queryFn: () => api<GraphAnswer>('/v1/graph/impact' + qs({ node: root })),
  });
  const triage = useMutation({
    mutationFn: (status: string) => send('PUT', `/v1/findings/${encodeURIComponent(id)}/triage`, { status }),
    onSuccess: () => client.invalidateQueries({ queryKey: ['optional'] }),
  });
  if (finding.isPending) return <Loading />;
  if (finding.isError) return <ErrorState error={finding.error} what="this finding" />;
  if (!finding.data.available || !f) return <ScansUnavailable path={`/v1/findings/${id}`} />;
  return (
    <>
      <p>
        <Link to="/findings">← Findings</Link>
      </p>
      <h1>
        <Badge tone={tone(f.severity)}>{f.severity}</Badge> {f.title ?? f.vulnerability_id ?? f.id}
      </h1>
      <Section
        title="Triage"
        actions={
          can('scan:run') &&
          STATUSES.map((status) => (
            <Button
              key={status}
              disabled={triage.isPending || f.status === status}
              onClick={() => triage.mutate(status)}
            >
              Mark {status.replace('_', ' ')}
            </Button>
          ))
        }
      >
        <p>
          Status: <strong>{f.status ?? 'open'}</strong>
        </p>
        {triage.isError && <ErrorState error={triage.error} what="triage" />}
      </Section>
      <Section title="Remediation">
        <p>
          {f.remediation ??
            (f.fixed_version
              ? `Upgrade ${packageName(f)} to ${f.fixed_version}.`
              : 'No fixed version is known yet.')}
        </p>
      </Section>
      <Section title="Blast radius">
        {impact.isPending ? (
          <Loading />
        ) : impact.isError ? (
          isNotFound(impact.error) ? (
            <ScansUnavailable path="/v1/graph/impact" />
          ) : (
            <ErrorState error={impact.error} what="blast radius" />
          )
        ) : (
          <Suspense fallback={<Loading label="Loading graph…" />}>
            <GraphView
              graph={impact.data}
              root={root}
              onSelect={(node) => void navigate({ to: '/graph', search: { node } })}
            />
          </Suspense>
        )}
      </Section>
    </>
  );
}
