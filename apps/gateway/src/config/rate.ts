/** A rate: `limit` requests per `windowMs`. Parsed from `N/s`, `N/min`, `N/h` (and `N/10s`-style windows). */
export interface Rate {
  limit: number;
  windowMs: number;
  /** As given, normalised: `600/min`. */
  text: string;
}

const UNITS: Record<string, number> = {
  s: 1000,
  sec: 1000,
  second: 1000,
  m: 60_000,
  min: 60_000,
  minute: 60_000,
  h: 3_600_000,
  hour: 3_600_000,
};

/** Parses `600/min`, `10/s`, `100/10s`, `5000/h`; a bare number means per minute. Throws on anything else. */
export function parseRate(raw: string): Rate {
  const match = /^\s*(\d{1,9})\s*(?:\/\s*(\d{1,6})?\s*([a-z]+))?\s*$/i.exec(raw);
  const unit = match?.[3]?.toLowerCase() ?? 'min';
  const limit = Number(match?.[1]);
  const count = match?.[2] ? Number(match[2]) : 1;
  if (!match || !(unit in UNITS) || limit < 1 || count < 1) {
    throw new Error(`"${raw}" is not a rate: use N/s, N/min or N/h (e.g. 600/min)`);
  }
  const windowMs = UNITS[unit] * count;
  if (windowMs > 86_400_000) throw new Error(`"${raw}": the window is at most a day`);
  const name = unit.startsWith('s') ? 's' : unit.startsWith('h') ? 'h' : 'min';
  return { limit, windowMs, text: `${limit}/${count > 1 ? count : ''}${name}` };
}
