import { Link, getRouteApi, useNavigate } from '@tanstack/react-router';
import { lazy, Suspense, useCallback } from 'react';
import { ErrorState, Loading, ScansUnavailable } from '../components/states';
import { Field } from '../components/ui';
import { api, qs } from '../lib/api';
import { impactGraph, toGraph } from '../lib/graph';
import { useOptional } from '../lib/hooks';
import type { GraphAnswer } from '../lib/types';

const GraphView = lazy(() => import('../components/graph-view').then((m) => ({ default: m.GraphView })));
const routeApi = getRouteApi('/graph');

/** Pick a package, vulnerability, server or credential name and see what it reaches (`/v1/graph/impact`). */
export function GraphScreen() {
  const { node } = routeApi.useSearch();
  const navigate = useNavigate({ from: '/graph' });
  const impact = useOptional<GraphAnswer>('/v1/graph/impact' + qs({ node }), !!node, () =>
    impactGraph(node!),
  );
  const overview = useOptional<GraphAnswer>('/v1/graph' + qs({ limit: 2000 }), !node, async (path) =>
    toGraph(await api(path)),
  );
  const select = useCallback((id: string) => void navigate({ search: { node: id } }), [navigate]);
  const result = node ? impact : overview;
  return (
    <>
      <h1>Graph explorer</h1>
      <form
        className="filters"
        role="search"
        onSubmit={(event) => {
          event.preventDefault();
          const value = new FormData(event.currentTarget).get('node');
          select(String(value ?? '').trim());
        }}
      >
        <Field label="Node (e.g. pkg:npm/lodash@4.17.20, vuln:GHSA-…, server:…, cred:…)">
          {(id) => <input id={id} name="node" defaultValue={node ?? ''} size={48} />}
        </Field>
        <button type="submit" className="btn btn-primary">
          Show blast radius
        </button>
        {node && <Link to="/graph">clear</Link>}
      </form>
      {result.isPending ? (
        <Loading />
      ) : result.isError ? (
        <ErrorState error={result.error} what="the graph" />
      ) : !result.data.available ? (
        <ScansUnavailable path={node ? '/v1/graph/impact' : '/v1/graph'} />
      ) : !result.data.data.nodes.length ? (
        <p className="state empty">Nothing reachable from this node.</p>
      ) : (
        <Suspense fallback={<Loading label="Loading graph…" />}>
          <GraphView graph={result.data.data} root={node} onSelect={select} />
        </Suspense>
      )}
    </>
  );
}
