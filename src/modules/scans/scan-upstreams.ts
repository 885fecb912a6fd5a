import { REMOTE_TRANSPORTS, type Transport } from '../../../libs/contracts/src/index.js';
import type { ResultsPush } from './results-push.schema.js';

/** A remote MCP server a stored scan reports, as discovery aggregates it (`scan_upstreams`). */
export interface ScanUpstream {
  name: string;
  url: string;
  transport: 'http' | 'https' | 'sse';
  /** What discovery lists in `source_agents`: the endpoint's hostname, else the source id. */
  agent: string;
}

/**
 * The remote (http/https/sse) servers of a checked report, one per (name, url), in report order; stdio servers
 * and anything whose stored URL is not http(s) (the server side turns an unparsable one into `[invalid url]`)
 * are left out. The URLs are the sanitised ones {@link checkReport} produced: no userinfo, no secret values.
 */
export function remoteUpstreams(report: ResultsPush): ScanUpstream[] {
  const hostname = report.endpoint?.hostname;
  const agent = (typeof hostname === 'string' && hostname.trim() ? hostname : report.source_id).slice(0, 500);
  const seen = new Set<string>();
  const upstreams: ScanUpstream[] = [];
  for (const a of report.agents) {
    for (const server of a.servers) {
      if (!REMOTE_TRANSPORTS.includes(server.transport as Transport) || !server.url) continue;
      if (!isHttpUrl(server.url)) continue;
      const key = JSON.stringify([server.name, server.url]);
      if (seen.has(key)) continue;
      seen.add(key);
      upstreams.push({
        name: server.name,
        url: server.url,
        transport: server.transport as ScanUpstream['transport'],
        agent,
      });
    }
  }
  return upstreams;
}

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}
