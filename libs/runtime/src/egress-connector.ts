import dns from 'node:dns';
import { isIP } from 'node:net';
import { buildConnector } from 'undici';
import type { EgressGuard, EgressRefusal } from './egress.js';

/** A connection the egress guard refused; `code` lets the relay tell it from a network failure. */
export class EgressRefusedError extends Error {
  override name = 'EgressRefusedError';
  readonly code = 'EGRESS_REFUSED';
  constructor(host: string, refusal: EgressRefusal) {
    super(`${host} resolves to ${refusal.address}, which ${refusal.reason}`);
  }
}

/**
 * An undici connector that enforces the egress guard at connect time: names are resolved once and refused
 * when any address is refused (no DNS-rebinding race between check and use: the checked address is the one
 * connected to), IP literals are checked as given, and the socket's actual peer is checked again before a
 * byte of the request is written.
 */
export function guardedConnector(guard: EgressGuard, options: { timeout: number }): buildConnector.connector {
  const lookup = ((hostname: string, opts: dns.LookupOptions, callback: (...args: unknown[]) => void) => {
    dns.lookup(hostname, { ...opts, all: true }, (error, addresses) => {
      if (error) return callback(error);
      const list = addresses as dns.LookupAddress[];
      for (const entry of list) {
        const refusal = guard.check(entry.address, currentPort.get(hostname) ?? 0, hostname);
        if (refusal) return callback(new EgressRefusedError(hostname, refusal));
      }
      if (opts.all) return callback(null, list);
      return callback(null, list[0].address, list[0].family);
    });
  }) as typeof dns.lookup;
  // The port is not passed to lookup: remember it per host name for the duration of the connect.
  const currentPort = new Map<string, number>();
  const base = buildConnector({ timeout: options.timeout, lookup } as buildConnector.BuildOptions);
  return (opts, callback) => {
    const host = opts.hostname.replace(/^\[|\]$/g, '');
    const port = Number(opts.port) || (opts.protocol === 'https:' ? 443 : 80);
    if (isIP(host)) {
      const refusal = guard.check(host, port, host);
      if (refusal) return callback(new EgressRefusedError(host, refusal), null);
    } else currentPort.set(host, port);
    return base(opts, (error, socket) => {
      if (error || !socket) return callback(error ?? new Error('no socket'), null);
      const refusal = socket.remoteAddress
        ? guard.check(socket.remoteAddress, socket.remotePort ?? port, host)
        : { address: '(unknown)', reason: 'has no peer address' };
      if (refusal) {
        socket.destroy();
        return callback(new EgressRefusedError(host, refusal), null);
      }
      return callback(null, socket);
    });
  };
}
