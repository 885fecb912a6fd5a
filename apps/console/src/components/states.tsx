import type { ReactNode } from 'react';
import { ApiError } from '../lib/api';

export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <p className="state" role="status" aria-live="polite">
      {label}
    </p>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return (
    <div className="state empty" role="status">
      {children}
    </div>
  );
}

/** An API failure, with its stable code and request id so an operator can find it in the server log. */
export function ErrorState({ error, what }: { error: unknown; what?: string }) {
  if (error instanceof ApiError) {
    return (
      <div className="state error" role="alert">
        <strong>{what ? `Could not load ${what}` : 'Request failed'}</strong>: {error.message}{' '}
        <code>{error.code}</code>
        {error.requestId && <span className="muted"> (request {error.requestId})</span>}
      </div>
    );
  }
  return (
    <div className="state error" role="alert">
      {String((error as Error)?.message ?? error)}
    </div>
  );
}

/** The scans module answered 404: the screen says so instead of showing anything made up. */
export function ScansUnavailable({ path }: { path: string }) {
  return (
    <div className="state empty" role="status" data-testid="scans-unavailable">
      <strong>Scans are not available on this control plane.</strong> <code>GET {path}</code> answered 404;
      findings, the graph and blast radius appear once the scans module is deployed and results are pushed (
      <code>agent-bom scan --push-url …</code>).
    </div>
  );
}

export function Section({
  title,
  actions,
  children,
}: {
  title: string;
  actions?: ReactNode;
  children: ReactNode;
}) {
  return (
    <section className="panel" aria-label={title}>
      <header className="panel-head">
        <h2>{title}</h2>
        {actions && <div className="actions">{actions}</div>}
      </header>
      {children}
    </section>
  );
}

export function when(value: string | null | undefined): string {
  if (!value) return '—';
  const date = new Date(value);
  return Number.isNaN(date.getTime())
    ? value
    : date
        .toISOString()
        .replace('T', ' ')
        .replace(/\.\d+Z$/, 'Z');
}
