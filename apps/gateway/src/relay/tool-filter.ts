import type { Transform } from 'node:stream';
import type { EvaluationContext } from '../../../../libs/policy/src/index.js';
import { visibleTool, type LoadedPolicy } from '../policy/loaded-policy.js';
import { sseRewriter } from './sse.js';

/**
 * Removes from a `tools/list` answer the tools this caller could not call, and marks the answer private
 * (2026-07-28 `cacheScope`): a filtered list must never be cached for another identity.
 */
export function filterToolsAnswer(
  message: unknown,
  id: string | number,
  policies: readonly LoadedPolicy[],
  context: EvaluationContext,
): { message: unknown; changed: boolean } {
  const answer = message as { id?: unknown; result?: { tools?: unknown; cacheScope?: unknown } };
  if (!answer || answer.id !== id || !answer.result || !Array.isArray(answer.result.tools))
    return { message, changed: false };
  const tools = answer.result.tools.filter(
    (tool: { name?: unknown }) => typeof tool?.name !== 'string' || visibleTool(policies, tool.name, context),
  );
  const result: Record<string, unknown> = { ...answer.result, tools };
  if ('cacheScope' in answer.result) result.cacheScope = 'private';
  return { message: { ...answer, result }, changed: true };
}

/**
 * A session's `tools/list` answer on an SSE stream, observed for drift (`admission-session.ts`) event by event:
 * an event the observer rewrites (drifted tools withheld) is sent rewritten; others pass through untouched.
 */
export function toolsObserverStream(observe: (message: unknown) => unknown): Transform {
  return sseRewriter((event) => {
    if ((event.event ?? 'message') !== 'message' || !event.data.includes('"tools"')) return event;
    try {
      const message: unknown = JSON.parse(event.data);
      const next = observe(message);
      return next === message ? event : { ...event, data: JSON.stringify(next) };
    } catch {
      return event; // not JSON: pass it on as it came
    }
  });
}

/** The same on an SSE answer stream, event by event as they arrive; other events pass through untouched. */
export function toolFilterStream(
  id: string | number,
  policies: readonly LoadedPolicy[],
  context: EvaluationContext,
): Transform {
  return sseRewriter((event) => {
    if ((event.event ?? 'message') !== 'message' || !event.data.includes('"tools"')) return event;
    try {
      const filtered = filterToolsAnswer(JSON.parse(event.data), id, policies, context);
      return filtered.changed ? { ...event, data: JSON.stringify(filtered.message) } : event;
    } catch {
      return event; // not JSON: pass it on as it came
    }
  });
}
