import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, getRouteApi, useNavigate } from '@tanstack/react-router';
import type { ColumnDef } from '@tanstack/react-table';
import { lazy, Suspense, useState } from 'react';
import { DataTable } from '../components/data-table';
import { ErrorState, Loading, ScansUnavailable, Section, when } from '../components/states';
import { Badge, Field, List, Search, Select } from '../components/ui';
import { api, isNotFound, qs, send, type Page } from '../lib/api';
import { useAuth } from '../lib/auth';
import { impactGraph } from '../lib/graph';
import { usePaged, useSearchPatch } from '../lib/hooks';
import { FINDING_KINDS, SCAN_SEVERITIES, TRIAGE_STATES } from '../../../../libs/contracts/src/index.js';
import type {
  FindingDetailView,
  FindingView,
  FleetServerView,
  GraphAnswer,
  RemediationPlanView,
  TriageResultView,
} from '../lib/types';

const GraphView = lazy(() => import('../components/graph-view').then((m) => ({ default: m.GraphView })));
const SEVERITIES = [...SCAN_SEVERITIES].reverse();
const routeApi = getRouteApi('/findings');

export const severityTone = (severity: string) =>
  severity === 'critical' || severity === 'high' ? 'bad' : severity === 'medium' ? 'warn' : 'neutral';

const columns: ColumnDef<FindingView, unknown>[] = [
  {
    id: 'severity',
    header: 'Severity',
    accessorKey: 'severity',
    cell: ({ row }) => <Badge tone={severityTone(row.original.severity)}>{row.original.severity}</Badge>,
  },
  { id: 'risk', header: 'Risk', accessorKey: 'risk_score' },
  {
    id: 'title',
    header: 'Finding',
    accessorKey: 'title',
    cell: ({ row }) => (
      <Link to="/findings/$id" params={{ id: row.original.id }}>
        {row.original.title}
      </Link>
    ),
  },
  { id: 'subject', header: 'Package / subject', accessorKey: 'subject' },
  {
    id: 'servers',
    header: 'Servers',
    accessorFn: (f) => f.servers.join(', '),
    cell: ({ row }) => <List items={row.original.servers} />,
  },
  { id: 'endpoint', header: 'Endpoint', accessorKey: 'source_id' },
  { id: 'triage', header: 'Triage', accessorFn: (f) => f.triage.state },
  { id: 'status', header: 'Status', accessorKey: 'status' },
  {
    id: 'seen',
    header: 'First seen',
    accessorKey: 'first_seen',
    cell: ({ getValue }) => when(getValue() as string),
  },
];

export function FindingsScreen() {
  const search = routeApi.useSearch();
  const set = useSearchPatch();
  const list = usePaged<FindingView>('/v1/findings', {
    q: search.q,
    severity: search.severity,
    status: search.status,
    kind: search.kind,
    triage: search.triage,
  });
  return (
    <>
      <h1>Findings</h1>
      <div className="filters" role="search">
        <Search value={search.q} onChange={(q) => set({ q })} placeholder="package, advisory, server…" />
        <Select
          label="Severity"
          value={search.severity}
          options={SEVERITIES}
          onChange={(severity) => set({ severity })}
        />
        <Select label="Kind" value={search.kind} options={FINDING_KINDS} onChange={(kind) => set({ kind })} />
        <Select
          label="Triage"
          value={search.triage}
          options={TRIAGE_STATES}
          onChange={(triage) => set({ triage })}
        />
        <Select
          label="Status (default open)"
          value={search.status}
          options={['open', 'resolved', 'all']}
          onChange={(status) => set({ status })}
        />
      </div>
      {list.isPending ? (
        <Loading />
      ) : list.isError ? (
        isNotFound(list.error) ? (
          <ScansUnavailable path="/v1/findings" />
        ) : (
          <ErrorState error={list.error} what="findings" />
        )
      ) : (
        <DataTable
          label="Findings"
          rows={list.rows}
          columns={columns}
          rowKey={(f) => `${f.id}:${f.source_id}`}
          empty={
            search.q || search.severity || search.kind || search.triage || search.status
              ? 'No finding matches these filters.'
              : 'No open finding. Push scan results with `agent-bom scan --push-url …`.'
          }
          hasMore={list.hasNextPage}
          loadingMore={list.isFetchingNextPage}
          onLoadMore={() => void list.fetchNextPage()}
        />
      )}
    </>
  );
}

/** Blast radius from the finding and the fleet inventory, when the graph API is not deployed. */
async function derivedImpact(f: FindingView): Promise<GraphAnswer> {
  const nodes = new Map<string, { id: string; type: string; label: string }>();
  const edges: { source: string; target: string }[] = [];
  const add = (id: string, type: string, label: string) => nodes.set(id, { id, type, label });
  const root = `vulnerability:${f.advisory_id ?? f.id}`;
  add(root, f.kind === 'vulnerability' ? 'vulnerability' : 'credential', f.advisory_id ?? f.title);
  if (f.subject) {
    add(`package:${f.subject}`, 'package', f.subject);
    edges.push({ source: root, target: `package:${f.subject}` });
  }
  const from = f.subject ? `package:${f.subject}` : root;
  for (const server of f.servers) {
    add(`server:${server}`, 'server', server);
    edges.push({ source: from, target: `server:${server}` });
    const fleet = await api<Page<FleetServerView>>('/v1/fleet/servers' + qs({ q: server, limit: 50 }));
    for (const match of fleet.items.filter((s) => s.name === server)) {
      for (const agent of match.source_agents) {
        const agentId = `agent:${agent.source_id}/${agent.agent}`;
        add(agentId, 'agent', agent.agent);
        add(`endpoint:${agent.source_id}`, 'endpoint', agent.hostname ?? agent.source_id);
        edges.push(
          { source: `server:${server}`, target: agentId },
          { source: agentId, target: `endpoint:${agent.source_id}` },
        );
      }
    }
  }
  for (const credential of f.credentials) {
    add(`credential:${credential}`, 'credential', credential);
    for (const server of f.servers)
      edges.push({ source: `server:${server}`, target: `credential:${credential}` });
  }
  const unique = new Map(edges.map((e) => [`${e.source}>${e.target}`, e]));
  return { nodes: [...nodes.values()], edges: [...unique.values()], derived: true };
}

function Triage({ finding }: { finding: FindingView }) {
  const client = useQueryClient();
  const [state, setState] = useState(finding.triage.state);
  const [reason, setReason] = useState(finding.triage.reason ?? '');
  const triage = useMutation({
    mutationFn: () =>
      send<TriageResultView>('PATCH', `/v1/findings/${encodeURIComponent(finding.id)}/triage`, {
        state,
        reason: reason || undefined,
      }),
    onSuccess: () => client.invalidateQueries({ queryKey: ['finding', finding.id] }),
  });
  return (
    <form
      className="filters"
      aria-label="Triage"
      onSubmit={(event) => {
        event.preventDefault();
        triage.mutate();
      }}
    >
      <Field label="Triage state">
        {(id) => (
          <select id={id} value={state} onChange={(e) => setState(e.target.value)}>
            {TRIAGE_STATES.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        )}
      </Field>
      <Field label="Reason (required unless open)">
        {(id) => <input id={id} value={reason} size={40} onChange={(e) => setReason(e.target.value)} />}
      </Field>
      <button type="submit" className="btn btn-primary" disabled={triage.isPending}>
        Save triage
      </button>
      {triage.isError && <ErrorState error={triage.error} what="triage" />}
      {triage.isSuccess && (
        <span className="ok small" role="status">
          Saved.
        </span>
      )}
    </form>
  );
}

export function FindingScreen() {
  const { id } = getRouteApi('/findings/$id').useParams();
  const { can } = useAuth();
  const navigate = useNavigate();
  // One request: the finding on every endpoint that reports it (open first). A 404 is an id not in this tenant.
  const findings = useQuery({
    queryKey: ['finding', id],
    queryFn: () => api<FindingDetailView>(`/v1/findings/${encodeURIComponent(id)}`),
  });
  const f = findings.data?.items[0];
  const remediation = useQuery({
    queryKey: ['remediation'],
    enabled: !!f && f.kind === 'vulnerability',
    queryFn: () => api<RemediationPlanView>('/v1/remediation'),
  });
  // A vulnerability is a graph node (`vuln:<advisory>`); other findings are drawn from the finding and the fleet.
  const root = f?.kind === 'vulnerability' && f.advisory_id ? `vuln:${f.advisory_id}` : undefined;
  const impact = useQuery({
    queryKey: ['impact', root ?? f?.id],
    enabled: !!f,
    queryFn: async () => {
      if (!root) return derivedImpact(f!);
      try {
        return await impactGraph(root);
      } catch (error) {
        if (isNotFound(error)) return derivedImpact(f!);
        throw error;
      }
    },
  });
  if (findings.isPending) return <Loading />;
  if (findings.isError || !f)
    return isNotFound(findings.error) || !f ? (
      <p className="state empty">No finding {id} in this tenant.</p>
    ) : (
      <ErrorState error={findings.error} what="this finding" />
    );
  const fix = remediation.data?.remediation_plan.find(
    (item) => item.package === f.subject || (f.advisory_id && item.resolves.includes(f.advisory_id)),
  );
  return (
    <>
      <p>
        <Link to="/findings">← Findings</Link>
      </p>
      <h1>
        <Badge tone={severityTone(f.severity)}>{f.severity}</Badge> {f.title}
      </h1>
      <Section title="Finding">
        <dl className="kv">
          <dt>Kind</dt>
          <dd>{f.kind}</dd>
          <dt>Subject</dt>
          <dd>
            <code className="wrap">{f.subject}</code>
          </dd>
          <dt>Advisory</dt>
          <dd>
            {f.advisory_id ?? '—'}{' '}
            {f.cvss_score !== null && <span className="muted">CVSS {f.cvss_score}</span>}
          </dd>
          <dt>Risk score</dt>
          <dd>{f.risk_score}</dd>
          <dt>Servers</dt>
          <dd>
            <List items={f.servers} />
          </dd>
          <dt>Credential names reachable</dt>
          <dd>
            <List items={f.credentials} />
          </dd>
          <dt>Endpoints</dt>
          <dd>
            <List items={findings.data!.items.map((x) => x.source_id)} />
          </dd>
          <dt>Where</dt>
          <dd>
            <List items={f.locations} />
          </dd>
          <dt>Status</dt>
          <dd>
            {f.status} · first seen {when(f.first_seen)} · last seen {when(f.last_seen)}
          </dd>
          <dt>Triage</dt>
          <dd data-testid="triage-state">
            {f.triage.state}
            {f.triage.reason && <> — {f.triage.reason}</>}
            {f.triage.by && (
              <span className="muted">
                {' '}
                (by {f.triage.by}, {when(f.triage.at)})
              </span>
            )}
          </dd>
        </dl>
        {can('findings:triage') && <Triage finding={f} />}
      </Section>
      <Section title="Remediation">
        {f.kind !== 'vulnerability' ? (
          <p>
            {f.kind === 'floating_version'
              ? 'Pin an exact version in the MCP config or lockfile.'
              : 'Move the credential out of the server configuration (env from a secret store).'}
          </p>
        ) : remediation.isPending ? (
          <Loading />
        ) : remediation.isError ? (
          <ErrorState error={remediation.error} what="remediation" />
        ) : fix ? (
          <div data-testid="remediation">
            <p>
              {fix.fixed_version ? (
                <>
                  Upgrade <code>{fix.name}</code> from {fix.current_version} to{' '}
                  <strong>{fix.fixed_version}</strong>: resolves {fix.resolves.length} advisory(ies)
                  {fix.unfixed.length > 0 && <>, {fix.unfixed.length} without a fix yet</>}.
                </>
              ) : (
                <>No fixed version of {fix.name} is known yet.</>
              )}
            </p>
            <ul>
              {fix.changes.map((change, index) => (
                <li key={index}>
                  <code className="wrap">{change.file}</code>: {change.change}
                </li>
              ))}
            </ul>
          </div>
        ) : (
          <p>{f.fixed_version ? `Upgrade to ${f.fixed_version}.` : 'No fixed version is known yet.'}</p>
        )}
      </Section>
      <Section title="Blast radius">
        {impact.isPending ? (
          <Loading />
        ) : impact.isError ? (
          <ErrorState error={impact.error} what="blast radius" />
        ) : (
          <>
            {impact.data.derived === true && (
              <p className="muted small">
                Derived from this finding and the fleet inventory (the finding is not a vulnerability node, or
                GET /v1/graph/impact does not know it).
              </p>
            )}
            <Suspense fallback={<Loading label="Loading graph…" />}>
              <GraphView
                graph={impact.data}
                root={root}
                onSelect={(node) => void navigate({ to: '/graph', search: { node } })}
              />
            </Suspense>
          </>
        )}
      </Section>
    </>
  );
}
