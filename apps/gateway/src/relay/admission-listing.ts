import type { IncomingHttpHeaders } from 'node:http';
import type { Upstream } from '../upstreams/upstream.js';
import { internalRequestId, type ToolsLister } from './admission-session.js';
import { forwardedHeaders, type RelayDeps } from './relay-context.js';
import { SseParser } from './sse.js';
import type { StatefulSession } from './stateful-sessions.js';
import type { TraceContext } from '../../../../libs/runtime/src/index.js';
import { readBounded } from './upstream-answers.js';

const MAX_LISTING = 16 * 1024 * 1024;

/**
 * The `tools/list` the gateway sends itself for `--block-undeclared` (the proxy does the same over stdio): the
 * client's protocol and trace headers, never its `Mcp-Method`/`Mcp-Name` (they name the client's own request),
 * and the `io.modelcontextprotocol/*` members of its `_meta` (a stateless 2026-07-28 client's revision).
 */
function listingRequest(
  headers: IncomingHttpHeaders,
  cursor: string | undefined,
  trace: TraceContext,
  meta: Record<string, unknown> | undefined,
) {
  const forwarded = forwardedHeaders(headers, trace);
  for (const name of Object.keys(forwarded))
    if (name === 'mcp-method' || name === 'mcp-name' || name.startsWith('mcp-param-')) delete forwarded[name];
  const envelope = Object.fromEntries(
    Object.entries(meta ?? {}).filter(([key]) => key.startsWith('io.modelcontextprotocol/')),
  );
  const modern = Object.keys(envelope).length > 0;
  const id = internalRequestId();
  const message = {
    jsonrpc: '2.0' as const,
    id,
    method: 'tools/list',
    params: { ...(cursor ? { cursor } : {}), ...(modern ? { _meta: envelope } : {}) },
  };
  return { id, message, headers: { ...forwarded, ...(modern ? { 'mcp-method': 'tools/list' } : {}) } };
}

function resultOf(answer: Record<string, unknown> | undefined): unknown {
  if (!answer) throw new Error('no answer');
  if (answer.result && typeof answer.result === 'object') return answer.result;
  const error = answer.error as { code?: unknown; message?: unknown } | undefined;
  throw new Error(`error ${String(error?.code)}: ${String(error?.message).slice(0, 200)}`);
}

/** Lists through a streamable HTTP upstream, in the upstream session the client's session wraps (if any). */
export function streamableToolsLister(
  deps: RelayDeps,
  upstream: Upstream,
  headers: IncomingHttpHeaders,
  upstreamSessionId: string | undefined,
): ToolsLister {
  return async (cursor, trace, meta) => {
    const { id, message, headers: sent } = listingRequest(headers, cursor, trace, meta);
    const response = await deps.upstreams.request(upstream, {
      method: 'POST',
      headers: {
        ...sent,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        ...(upstreamSessionId ? { 'mcp-session-id': upstreamSessionId } : {}),
      },
      body: JSON.stringify(message),
    });
    const text = await readBounded(response.body, MAX_LISTING);
    if (response.statusCode !== 200) throw new Error(`the upstream answered HTTP ${response.statusCode}`);
    if (text === undefined) throw new Error('the answer is too large');
    if (!String(response.headers['content-type'] ?? '').includes('text/event-stream'))
      return resultOf(JSON.parse(text) as Record<string, unknown>);
    for (const event of new SseParser().push(`${text}\n\n`)) {
      try {
        const parsed = JSON.parse(event.data) as Record<string, unknown>;
        if (parsed.id === id && !('method' in parsed)) return resultOf(parsed);
      } catch {
        // not JSON: another event
      }
    }
    throw new Error('no answer in the stream');
  };
}

/** Lists through a session the gateway holds (a legacy SSE client's, or a bridge to a legacy SSE upstream). */
export function sessionToolsLister(
  deps: RelayDeps,
  session: StatefulSession | undefined,
  headers: IncomingHttpHeaders,
): ToolsLister {
  return async (cursor, trace, meta) => {
    if (!session) throw new Error('no session: initialize first');
    const { id, message, headers: sent } = listingRequest(headers, cursor, trace, meta);
    const answer = session.answerTo(id, deps.config.upstreamTimeoutMs);
    try {
      await session.channel.send(message, sent);
    } catch (error) {
      session.pending.delete(id);
      throw error;
    }
    const got = await answer;
    if (!got || 'closed' in got) throw new Error('the upstream did not answer');
    return resultOf(got);
  };
}
