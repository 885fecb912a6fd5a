import type pg from 'pg';

export function databaseUrl(serverUrl: string, database: string): string;
export function withAdmin<T>(adminUrl: string, fn: (client: pg.Client) => Promise<T>): Promise<T>;
