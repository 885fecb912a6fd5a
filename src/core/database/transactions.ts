import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import type { Outcome } from './group-commit.js';

/**
 * An open database transaction. Services hold it only to pass it on; repositories run their SQL on
 * `tx.manager`. Nothing outside a repository looks inside.
 */
export class Tx {
  constructor(readonly manager: EntityManager) {}
}

/**
 * The unit of work: an action and its audit record commit together or not at all.
 *
 * ```ts
 * await this.transactions.run(async (tx) => {
 *   await this.keys.insert(tenantId, row, tx);
 *   await this.audit.record(principal, { type: 'api_key.created', … }, tx);
 * });
 * ```
 * A service that may be called inside someone else's unit of work takes an optional `tx` and passes it as
 * `within`: it then joins that transaction instead of opening its own. A throw inside `fn` rolls back.
 */
@Injectable()
export class Transactions {
  constructor(private readonly dataSource: DataSource) {}

  run<T>(fn: (tx: Tx) => Promise<T>, within?: Tx): Promise<T> {
    if (within) return fn(within);
    return this.dataSource.transaction((manager) => fn(new Tx(manager)));
  }

  /**
   * Runs `fn` inside `tx` as a unit of its own (a savepoint), for a group commit whose members fail alone: if `fn`
   * throws, what it wrote is undone, `tx` goes on as it was before, and the error comes back as the outcome.
   * Rejects (and `tx` must then not commit) only if the savepoint itself fails.
   */
  async attempt<T>(tx: Tx, fn: (tx: Tx) => Promise<T>): Promise<Outcome<T>> {
    return this.attemptKept(tx, 'unit', fn, { release: true });
  }

  /**
   * {@link attempt}, but on success the savepoint `name` is kept (`release: false`): a later
   * {@link rollbackTo} of it undoes `fn` and everything written after it; {@link release} of it keeps them all.
   */
  async attemptKept<T>(
    tx: Tx,
    name: string,
    fn: (tx: Tx) => Promise<T>,
    options: { release: boolean } = { release: false },
  ): Promise<Outcome<T>> {
    const savepoint = savepointName(name);
    await tx.manager.query(`SAVEPOINT ${savepoint}`);
    let value: T;
    try {
      value = await fn(tx);
    } catch (error) {
      await this.rollbackTo(tx, name);
      return { ok: false, error };
    }
    if (options.release) await this.release(tx, name);
    return { ok: true, value };
  }

  /** Undoes what was written since savepoint `name` (and the savepoints after it), and drops it. */
  async rollbackTo(tx: Tx, name: string): Promise<void> {
    const savepoint = savepointName(name);
    await tx.manager.query(`ROLLBACK TO SAVEPOINT ${savepoint}; RELEASE SAVEPOINT ${savepoint}`);
  }

  /** Keeps what was written since savepoint `name` (and drops the savepoints after it). */
  async release(tx: Tx, name: string): Promise<void> {
    await tx.manager.query(`RELEASE SAVEPOINT ${savepointName(name)}`);
  }
}

function savepointName(name: string): string {
  if (!/^[a-z][a-z0-9_]{0,30}$/.test(name)) throw new Error(`not a savepoint name: ${name}`);
  return name;
}

/** For repositories: the transaction's manager, or the pool's (each statement in its own transaction). */
export function managerOf(dataSource: DataSource, tx: Tx | undefined): EntityManager {
  return tx ? tx.manager : dataSource.manager;
}
