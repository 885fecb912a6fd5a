import {
  loadPinnedKeys as loadKeys,
  PolicySourceError,
  readPolicyFile,
} from '../../../../libs/runtime/src/index.js';
import type { KeyObject } from 'node:crypto';
import { ProxyConfigError } from '../config.js';
import { fromSnapshot, type LoadedPolicy } from './policy-set.js';

/**
 * `--policy FILE` through the shared file source (regular file, at most 10 MiB, JSON or YAML, compiled). Any
 * problem refuses the start (exit 2) with a message naming the file and the rule or field.
 */
export async function loadLocalPolicy(file: string): Promise<LoadedPolicy> {
  try {
    return fromSnapshot('local', await readPolicyFile(file));
  } catch (error) {
    if (error instanceof PolicySourceError) throw new ProxyConfigError(`--policy ${file}: ${error.message}`);
    throw error;
  }
}

/** `--policy-public-key FILE`: only these keys are trusted for bundles (exit 2 when the file is not usable). */
export async function loadPinnedKeys(file: string): Promise<KeyObject[]> {
  try {
    return await loadKeys(file);
  } catch (error) {
    if (error instanceof PolicySourceError)
      throw new ProxyConfigError(`--policy-public-key ${file}: ${error.message}`);
    throw error;
  }
}
