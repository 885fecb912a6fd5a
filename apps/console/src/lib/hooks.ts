import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { useNavigate } from '@tanstack/react-router';
import { api, isNotFound, qs, type Page } from './api';

type Params = Record<string, string | number | boolean | undefined>;

/** A cursor-paginated /v1 list (server-side pagination, 200 rows a page), flattened for a table. */
export function usePaged<T>(
  path: string,
  params: Params = {},
  options: { refetchInterval?: number | false } = {},
) {
  const query = useInfiniteQuery({
    queryKey: [path, params],
    queryFn: ({ pageParam }) => api<Page<T>>(path + qs({ ...params, limit: 200, cursor: pageParam })),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
    refetchInterval: options.refetchInterval,
  });
  return { ...query, rows: query.data?.pages.flatMap((page) => page.items) ?? [] };
}

/**
 * A route that may not exist on this control plane (scans): a 404 is a state (`unavailable`), not an error.
 */
export function useOptional<T>(path: string, enabled = true, load: (path: string) => Promise<T> = api<T>) {
  const query = useQuery({
    queryKey: ['optional', path],
    enabled,
    queryFn: async () => {
      try {
        return { available: true as const, data: await load(path) };
      } catch (error) {
        if (isNotFound(error)) return { available: false as const, data: undefined };
        throw error;
      }
    },
  });
  return query;
}

/** An endpoint not synced for this long is flagged stale. */
export const STALE_AFTER_MS = 7 * 24 * 3600 * 1000;
export const isStale = (iso: string | null | undefined, now = Date.now()) =>
  !iso || now - new Date(iso).getTime() > STALE_AFTER_MS;

type Search = Record<string, string | undefined>;

/** Changes some of the current route's URL filters (deep links), keeping the others. */
export function useSearchPatch(): (patch: Search) => void {
  const navigate = useNavigate();
  return (patch) =>
    void navigate({ to: '.', search: ((previous: Search) => ({ ...previous, ...patch })) as never });
}
