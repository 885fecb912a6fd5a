import { useEffect, useRef } from 'react';
import type { GraphAnswer } from '../lib/types';

const COLORS: Record<string, string> = {
  vulnerability: '#b3261e',
  package: '#7a4d00',
  server: '#0b57d0',
  agent: '#146c2e',
  endpoint: '#5f6368',
  credential: '#8e24aa',
  tool: '#00639b',
};

/** The User Timing mark set when a graph's first frame is drawn. */
export const GRAPH_RENDERED = 'console:graph-rendered';

/**
 * Interactive blast-radius graph on Cytoscape (loaded on demand, never on the first load). Labels are drawn on a
 * canvas, so untrusted names can never become markup. Cytoscape handles a 2,000-node radius with the
 * `cose` layout on a single canvas.
 */
export function GraphView({
  graph,
  onSelect,
  root,
}: {
  graph: GraphAnswer;
  onSelect?(id: string): void;
  root?: string;
}) {
  const container = useRef<HTMLDivElement>(null);
  useEffect(() => {
    let destroyed = false;
    let instance: { destroy(): void } | undefined;
    void import('cytoscape').then(({ default: cytoscape }) => {
      if (destroyed || !container.current) return;
      const large = graph.nodes.length > 500;
      const cy = cytoscape({
        container: container.current,
        elements: [
          ...graph.nodes.map((node) => ({
            data: {
              id: node.id,
              label: String(node.label ?? node.name ?? node.id).slice(0, 80),
              kind: String(node.type ?? node.kind ?? ''),
              root: node.id === root,
            },
          })),
          ...graph.edges.map((edge, index) => ({
            data: { id: `e${index}`, source: edge.source, target: edge.target },
          })),
        ],
        style: [
          {
            selector: 'node',
            style: {
              label: large ? '' : 'data(label)',
              'font-size': 10,
              width: 14,
              height: 14,
              'background-color': '#444',
            },
          },
          // One selector per kind, not a function: cytoscape caches selector styles, a mapper runs per node.
          ...Object.entries(COLORS).map(([kind, color]) => ({
            selector: `node[kind = "${kind}"]`,
            style: { 'background-color': color },
          })),
          {
            // A data flag, not the id in a selector: ids come from endpoints and are never parsed as selector text.
            selector: 'node[?root]',
            style: { width: 24, height: 24, 'border-width': 3, 'border-color': '#000' },
          },
          {
            selector: 'edge',
            style: { width: 1, 'line-color': '#aaa', 'curve-style': large ? 'haystack' : 'bezier' },
          },
        ],
        layout: large ? { name: 'grid' } : { name: 'cose', animate: false },
        // Large graphs: pan and zoom move a snapshot of the canvas and skip edges, redrawn when the motion stops.
        textureOnViewport: large,
        hideEdgesOnViewport: large,
        wheelSensitivity: 0.3,
        minZoom: 0.05,
        maxZoom: 1.6,
      });
      cy.on('tap', 'node', (event) => onSelect?.(event.target.id()));
      // The first frame on the canvas: what bench/console/console-render.ts times (User Timing, no cost).
      cy.one('render', () => performance.mark(GRAPH_RENDERED, { detail: graph.nodes.length }));
      instance = cy;
    });
    return () => {
      destroyed = true;
      instance?.destroy();
    };
  }, [graph, onSelect, root]);
  const kinds = new Map<string, number>();
  for (const node of graph.nodes) {
    const kind = String(node.type ?? node.kind ?? 'unknown');
    kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
  }
  const described = [...kinds].map(([kind, count]) => `${count} ${kind}`).join(', ');
  return (
    <div>
      <div
        ref={container}
        className="graph"
        role="img"
        aria-label={`Graph of ${graph.nodes.length} nodes (${described}) and ${graph.edges.length} edges`}
      />
      <p className="legend muted small">
        {Object.entries(COLORS).map(([kind, color]) => (
          <span key={kind}>
            <span className="dot" style={{ background: color }} aria-hidden="true" /> {kind}{' '}
          </span>
        ))}
      </p>
    </div>
  );
}
