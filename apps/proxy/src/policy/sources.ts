import type { KeyObject } from 'node:crypto';
import {
  FilePolicySource,
  loadPinnedKeys as loadKeys,
  PolicySourceError,
} from '../../../../libs/runtime/src/index.js';
import { ProxyConfigError } from '../config.js';

/**
 * `--policy FILE` through the shared file source (regular file, at most 10 MiB, JSON or YAML, compiled; reloaded
 * while the session runs). Any problem at start refuses it (exit 2) with a message naming the file and the rule
 * or field.
 */
export async function openLocalPolicy(file: string): Promise<FilePolicySource> {
  try {
    return await FilePolicySource.open(file);
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
