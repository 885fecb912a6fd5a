/** A JSON-RPC id as JSON.parse gives it: requests must use a string or a number. */
export type RpcId = string | number;

/** Map key of an id, so `1` and `"1"` stay distinct. */
export function idKey(id: RpcId): string {
  return typeof id === 'number' ? `n:${id}` : `s:${id}`;
}

export function isRpcId(value: unknown): value is RpcId {
  return typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value));
}
