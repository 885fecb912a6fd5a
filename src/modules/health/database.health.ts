import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { pendingMigrations } from '../../core/database/data-source.js';

/** The SQL behind readiness. */
@Injectable()
export class DatabaseHealth {
  constructor(private readonly dataSource: DataSource) {}

  async ping(): Promise<void> {
    await this.dataSource.query('SELECT 1');
  }

  async migrationsApplied(): Promise<{ pending: number }> {
    const pending = await pendingMigrations(this.dataSource);
    if (pending.length > 0) throw new Error(`${pending.length} migration(s) pending: ${pending.join(', ')}`);
    return { pending: 0 };
  }
}
