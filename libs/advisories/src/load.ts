import { readOsvArchive } from './archive.js';
import { MemoryAdvisorySource } from './match.js';
import { parseOsv } from './osv.js';

/** Reads an OSV directory or zip into memory (offline endpoint scans); malformed records are counted, not fatal. */
export async function loadOsvSource(
  source: string,
): Promise<{ source: MemoryAdvisorySource; malformed: Array<{ name: string; reason: string }> }> {
  const memory = new MemoryAdvisorySource(`osv:${source}`);
  const malformed: Array<{ name: string; reason: string }> = [];
  await readOsvArchive(source, async ({ name, text }) => {
    const parsed = parseOsv(text);
    if (parsed.ok === true) memory.add(parsed.advisory);
    else if (parsed.ok === false) malformed.push({ name, reason: parsed.reason });
  });
  return { source: memory, malformed };
}
