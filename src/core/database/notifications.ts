import pg from 'pg';
import type { DataSource } from 'typeorm';

/** A LISTEN on a connection of its own (see {@link listen}). */
export interface Listener {
  /**
   * Resolves once every notification of a transaction that committed before this call has been passed to
   * `changed`: a round trip on the listening connection (`SELECT 1`), no write. PostgreSQL signals listening
   * backends while the notifying transaction commits, before its client hears the commit, and a signalled idle
   * backend sends the notifications it has before it answers the next query, in commit order; the driver emits
   * them before it resolves that query. Rejects (and the listener is lost) if the connection fails.
   */
  barrier(): Promise<void>;
  close(): Promise<void>;
}

/**
 * LISTENs on `channel` on a connection of its own (the pool's connection options, `applicationName` for
 * `pg_stat_activity`): `changed(payload)` per notification, in commit order; `lost()` once if the connection fails,
 * ends or a barrier fails. Rejects when it cannot connect or LISTEN.
 */
export async function listen(
  dataSource: DataSource,
  channel: string,
  applicationName: string,
  changed: (payload: string) => void,
  lost: () => void,
): Promise<Listener> {
  const options = (dataSource.driver as unknown as { master?: { options?: pg.ClientConfig } }).master
    ?.options;
  if (!options) throw new Error('no PostgreSQL pool to take connection options from');
  const client = new pg.Client({ ...options, application_name: applicationName });
  let open = true;
  const end = () => {
    if (!open) return;
    open = false;
    void client.end().catch(() => undefined);
    lost();
  };
  client.on('error', end);
  client.on('end', end);
  client.on('notification', (message) => {
    if (message.channel === channel && message.payload) changed(message.payload);
  });
  try {
    await client.connect();
    await client.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
  } catch (error) {
    open = false;
    await client.end().catch(() => undefined);
    throw error;
  }
  return {
    barrier: async () => {
      if (!open) throw new Error('the listener is closed');
      try {
        await client.query('SELECT 1');
      } catch (error) {
        end();
        throw error;
      }
    },
    close: async () => {
      open = false;
      await client.end().catch(() => undefined);
    },
  };
}
