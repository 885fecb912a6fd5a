import { randomFillSync } from 'node:crypto';

/**
 * Bytes from the CSPRNG, handed out from one refilled 4 KiB pool: a `randomFillSync` per ~170 trace contexts or
 * ~250 event ids instead of one (or two) per request. Each byte is handed out once; the taker may overwrite the
 * bytes it took (an id's version bits) but never keeps a reference past its call.
 */
export const RANDOM_POOL = Buffer.alloc(4096);
let taken = RANDOM_POOL.length;

/** Takes `bytes` fresh random bytes (at most the pool's size): returns where they start in `RANDOM_POOL`. */
export function takeRandom(bytes: number): number {
  if (taken + bytes > RANDOM_POOL.length) {
    randomFillSync(RANDOM_POOL);
    taken = 0;
  }
  const at = taken;
  taken += bytes;
  return at;
}
