import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import { PolicyCompileError } from '../../../../libs/policy/src/index.js';
import { ProxyConfigError } from '../config.js';
import { compileLoaded, type LoadedPolicy } from './policy-set.js';

const MAX_POLICY_BYTES = 10 * 1024 * 1024;

/**
 * Reads and compiles `--policy FILE` (JSON, or YAML for `.yaml`/`.yml`). Any problem refuses the start with a
 * message naming the file and the rule/field: a proxy must never run with a policy it could not read.
 */
export async function loadLocalPolicy(file: string): Promise<LoadedPolicy> {
  let text: string;
  try {
    const stat = await fs.stat(file);
    if (!stat.isFile()) throw new ProxyConfigError(`--policy ${file}: not a regular file`);
    if (stat.size > MAX_POLICY_BYTES) throw new ProxyConfigError(`--policy ${file}: larger than 10 MiB`);
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    if (error instanceof ProxyConfigError) throw error;
    throw new ProxyConfigError(
      `--policy ${file}: cannot read it (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
  let document: unknown;
  try {
    if (/\.ya?ml$/i.test(file)) {
      const { parse } = await import('yaml');
      document = parse(text, { maxAliasCount: 100 });
    } else {
      document = JSON.parse(text);
    }
  } catch (error) {
    throw new ProxyConfigError(
      `--policy ${file}: not valid ${/\.ya?ml$/i.test(file) ? 'YAML' : 'JSON'} (${(error as Error).message.split('\n')[0]})`,
    );
  }
  const version = `sha256:${createHash('sha256').update(text).digest('hex').slice(0, 12)}`;
  try {
    return compileLoaded('local', document, version);
  } catch (error) {
    if (error instanceof PolicyCompileError) {
      const problems = error.problems.slice(0, 5).map((p) => `${p.where}: ${p.message}`);
      throw new ProxyConfigError(`--policy ${file}: ${problems.join('; ')}`);
    }
    throw error;
  }
}
