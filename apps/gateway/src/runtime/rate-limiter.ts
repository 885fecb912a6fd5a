import type { GatewayConfig } from '../config/config.js';
import { MemoryRateLimiter } from '../rate-limit/memory-rate-limiter.js';
import { PostgresRateLimiter } from '../rate-limit/postgres-rate-limiter.js';
import type { RateLimiter } from '../rate-limit/rate-limiter.js';

/** The limiter `--rate-limit*` asks for (none without a limit); a PostgreSQL one is checked before start ends. */
export async function createRateLimiter(rl: GatewayConfig['rateLimit']): Promise<RateLimiter | undefined> {
  if (!rl.perTenant && !rl.perTool) return undefined;
  if (rl.backend !== 'postgres') return new MemoryRateLimiter();
  const limiter = new PostgresRateLimiter(rl.databaseUrl!);
  try {
    await limiter.init();
  } catch (error) {
    await limiter.close().catch(() => undefined);
    throw new Error(`cannot use the PostgreSQL rate limiter: ${(error as Error).message}`, { cause: error });
  }
  return limiter;
}
