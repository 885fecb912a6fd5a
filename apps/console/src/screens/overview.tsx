import { useQuery } from '@tanstack/react-query';
import { Link } from '@tanstack/react-router';
import { Loading, ErrorState, Section, ScansUnavailable, when } from '../components/states';
import { api, qs, type Page } from '../lib/api';
import { useOptional } from '../lib/hooks';
import { useAuth } from '../lib/auth';
import type {
  AuditEntryView,
  AuditTrendsView,
  DiscoveryAnswer,
  FindingView,
  FleetStatsView,
} from '../lib/types';
import { Sparkline, bucketByHour } from '../components/sparkline';
import { TrendChart } from '../components/trend-chart';

const SEVERITIES = ['critical', 'high', 'medium', 'low'];

function Counts({ title, counts }: { title: string; counts: Record<string, number> }) {
  const entries = Object.entries(counts).sort((a, b) => b[1] - a[1]);
  return (
    <div className="card">
      <h3>{title}</h3>
      {entries.length ? (
        <dl className="counts">
          {entries.map(([key, value]) => (
            <div key={key}>
              <dt>{key}</dt>
              <dd>{value}</dd>
            </div>
          ))}
        </dl>
      ) : (
        <p className="muted">none yet</p>
      )}
    </div>
  );
}

export function Overview() {
  const { can } = useAuth();
  const stats = useQuery({
    queryKey: ['fleet-stats'],
    queryFn: () => api<FleetStatsView>('/v1/fleet/stats'),
  });
  const discovery = useQuery({
    queryKey: ['discovered'],
    queryFn: () => api<DiscoveryAnswer>('/v1/gateway/upstreams/discovered'),
    enabled: can('discovery:read'),
  });
  const runtime = useQuery({
    queryKey: ['overview-runtime'],
    enabled: can('audit:read'),
    queryFn: () => api<Page<AuditEntryView>>('/v1/audit' + qs({ origin: 'runtime', limit: 200 })),
  });
  const trends = useQuery({
    queryKey: ['overview-trends'],
    enabled: can('audit:read'),
    queryFn: () => api<AuditTrendsView>('/v1/audit/trends' + qs({ days: 30 })),
  });
  const findings = useOptional<Page<FindingView>>('/v1/findings' + qs({ limit: 200 }));

  if (stats.isPending) return <Loading />;
  if (stats.isError) return <ErrorState error={stats.error} what="fleet statistics" />;
  const s = stats.data;
  const events = runtime.data?.items ?? [];
  const fronted = new Set(events.filter((e) => e.event.actor.role === 'gateway').map((e) => e.event.server));
  const proxied = new Set(
    events.filter((e) => e.event.actor.role === 'proxy').map((e) => e.event.source_id ?? e.event.agent),
  );
  const bySeverity: Record<string, number> = {};
  for (const finding of findings.data?.data?.items ?? []) {
    bySeverity[finding.severity] = (bySeverity[finding.severity] ?? 0) + 1;
  }
  return (
    <>
      <h1>Overview</h1>
      <div className="cards">
        <div className="card stat">
          <h3>Endpoints</h3>
          <p className="big">{s.endpoints}</p>
          <Link to="/fleet">fleet →</Link>
        </div>
        <div className="card stat">
          <h3>MCP clients</h3>
          <p className="big">{s.agents}</p>
        </div>
        <div className="card stat">
          <h3>MCP servers</h3>
          <p className="big">{s.servers}</p>
          <Link to="/servers">servers →</Link>
        </div>
        <div className="card stat">
          <h3>Servers with credentials</h3>
          <p className="big">{s.servers_with_credentials}</p>
          <p className="muted small">names only, never values</p>
        </div>
      </div>
      <div className="cards">
        <Counts title="Transports" counts={s.by_transport} />
        <Counts title="Auth modes (credential exposure)" counts={s.by_auth_mode} />
        <Counts title="Clients" counts={s.by_client} />
        <Counts title="Environments" counts={s.by_environment} />
      </div>
      <Section title="Open findings by severity">
        {findings.isPending ? (
          <Loading />
        ) : findings.isError ? (
          <ErrorState error={findings.error} what="findings" />
        ) : !findings.data.available ? (
          <ScansUnavailable path="/v1/findings" />
        ) : (
          <dl className="counts severities">
            {SEVERITIES.map((severity) => (
              <div key={severity}>
                <dt>
                  <Link to="/findings" search={{ severity }}>
                    {severity}
                  </Link>
                </dt>
                <dd>{bySeverity[severity] ?? 0}</dd>
              </div>
            ))}
          </dl>
        )}
      </Section>
      <Section title="Runtime coverage">
        {!can('audit:read') ? (
          <p className="muted">Runtime decisions need the audit:read permission (analyst or admin).</p>
        ) : runtime.isError ? (
          <ErrorState error={runtime.error} what="runtime events" />
        ) : (
          <div className="cards">
            <div className="card">
              <h3>Remote servers fronted by a gateway</h3>
              <p className="big">{[...fronted].filter(Boolean).length}</p>
              <p className="muted small">
                of {discovery.data?.upstreams.length ?? '—'} discovered remote upstreams
              </p>
            </div>
            <div className="card">
              <h3>Endpoints running proxies</h3>
              <p className="big">{[...proxied].filter(Boolean).length}</p>
              <p className="muted small">of {s.endpoints} endpoints (from the last 200 runtime decisions)</p>
            </div>
            <div className="card wide">
              <h3>Runtime decisions per hour</h3>
              <Sparkline
                label="runtime decisions per hour"
                points={bucketByHour(events.map((e) => e.event.timestamp))}
              />
              <Link to="/runtime">runtime →</Link>
            </div>
          </div>
        )}
        <p className="muted small">Last fleet sync: {when(s.last_synced_at)}</p>
      </Section>
      {can('audit:read') && (
        <Section title="Last 30 days">
          {trends.isPending ? (
            <Loading />
          ) : trends.isError ? (
            <ErrorState error={trends.error} what="trends" />
          ) : (
            <TrendChart trends={trends.data} />
          )}
        </Section>
      )}
    </>
  );
}
