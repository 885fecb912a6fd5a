import { Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { PolicyRepository } from './policy.repository.js';

/** A remembered version is re-read after this long even without a notification (a bound on anything missed). */
const MAX_AGE_MS = 5_000;
const RECONNECT_MS = 1_000;

/**
 * Each tenant's bundle version, remembered between polls so a bundle poll costs no database round trip, and
 * forgotten the moment any replica commits a policy change: every write notifies in its transaction
 * (PolicyRepository.bumpBundle) and every replica LISTENs on one connection of its own. While that connection
 * is down (start-up, a lost connection, a database that refuses LISTEN) nothing is remembered and every poll
 * reads the database. A read that a notification overtook is not remembered (per-tenant generations), so a
 * version read before a commit is not served after the commit's notification.
 */
@Injectable()
export class BundleVersions implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('PolicyBundles');
  private readonly versions = new Map<string, { version: number; at: number }>();
  private readonly generations = new Map<string, number>();
  private listener?: { close(): Promise<void> };
  private listening = false;
  private epoch = 0;
  private closed = false;
  private warned = false;
  private retry?: NodeJS.Timeout;

  constructor(private readonly policies: PolicyRepository) {}

  async onModuleInit(): Promise<void> {
    await this.listen();
  }

  async onApplicationShutdown(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    this.forgetAll();
    await this.listener?.close();
  }

  /**
   * The tenant's remembered version, if one may be served (listening, no change notified since, younger than
   * `MAX_AGE_MS`); else undefined and the caller reads it with `version()`. Synchronous: a poll served from
   * memory takes no promise hop.
   */
  remembered(tenantId: string): number | undefined {
    const hit = this.listening ? this.versions.get(tenantId) : undefined;
    return hit && Date.now() - hit.at < MAX_AGE_MS ? hit.version : undefined;
  }

  /** The tenant's version: the remembered one while no change was notified, else `read()`. */
  async version(tenantId: string, read: () => Promise<number>): Promise<number> {
    const remembered = this.remembered(tenantId);
    if (remembered !== undefined) return remembered;
    const epoch = this.epoch;
    const generation = this.generations.get(tenantId) ?? 0;
    const version = await read();
    if (this.listening && epoch === this.epoch && generation === (this.generations.get(tenantId) ?? 0)) {
      this.versions.set(tenantId, { version, at: Date.now() });
    }
    return version;
  }

  /** Forgets the tenant's version (a notification, or this replica's own write before it commits). */
  forget(tenantId: string): void {
    this.generations.set(tenantId, (this.generations.get(tenantId) ?? 0) + 1);
    this.versions.delete(tenantId);
  }

  private forgetAll(): void {
    this.listening = false;
    this.epoch++;
    this.versions.clear();
  }

  private async listen(): Promise<void> {
    if (this.closed) return;
    try {
      this.listener = await this.policies.listenBundleChanges(
        (tenantId) => this.forget(tenantId),
        () => {
          this.forgetAll();
          this.listener = undefined;
          if (!this.closed) this.retry = setTimeout(() => void this.listen(), RECONNECT_MS).unref();
        },
      );
      if (this.closed) return void (await this.listener.close());
      this.listening = true;
      this.warned = false;
    } catch (error) {
      if (!this.warned) {
        this.warned = true;
        this.logger.warn(
          `bundle polls read the database each time until LISTEN works: ${(error as Error).message}`,
        );
      }
      if (!this.closed) this.retry = setTimeout(() => void this.listen(), RECONNECT_MS).unref();
    }
  }
}
