import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { UsageError } from '../commands/usage-error.js';

/**
 * The endpoint credential `agent-bom agents` received when the control plane enrolled this endpoint
 * (docs/fleet.md, "Endpoint enrollment"). It is bound to one control plane and one `source_id`, stored in a
 * file only the user can read (0600, in a 0700 directory), and used instead of the shared fleet-push key.
 */
export interface StoredCredential {
  control_plane: string;
  source_id: string;
  credential: string;
  enrolled_at: string;
}

const CREDENTIAL = /^abom_[A-Za-z0-9_-]{43}$/;

/** `--credential-file`, `AGENT_BOM_CREDENTIAL_FILE`, or `$XDG_CONFIG_HOME/agent-bom/endpoint-credential.json`. */
export function credentialPath(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  const explicit = flag ?? env.AGENT_BOM_CREDENTIAL_FILE?.trim();
  if (explicit) return path.resolve(explicit);
  const config = env.XDG_CONFIG_HOME?.trim() || path.join(env.HOME?.trim() || os.homedir(), '.config');
  return path.join(config, 'agent-bom', 'endpoint-credential.json');
}

/**
 * The stored credential for this control plane and source id, if there is one. A file others can read or write
 * is refused (the credential may have leaked; re-enroll), and so is a malformed one.
 */
export async function readCredential(
  file: string,
  controlPlane: string,
  sourceId: string,
): Promise<StoredCredential | undefined> {
  let text: string;
  try {
    const stat = await fs.stat(file);
    if (process.platform !== 'win32' && (stat.mode & 0o077) !== 0) {
      throw new UsageError(
        `${file} is readable or writable by other users (mode ${(stat.mode & 0o777).toString(8)}); ` +
          'delete it and ask an admin to re-enroll this endpoint',
      );
    }
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  let stored: Partial<StoredCredential>;
  try {
    stored = JSON.parse(text) as Partial<StoredCredential>;
  } catch {
    throw new UsageError(`${file} is not a valid endpoint credential file`);
  }
  if (typeof stored.credential !== 'string' || !CREDENTIAL.test(stored.credential)) {
    throw new UsageError(`${file} is not a valid endpoint credential file`);
  }
  if (stored.control_plane !== controlPlane || stored.source_id !== sourceId) return undefined;
  return stored as StoredCredential;
}

/** Writes atomically: a 0600 temporary file in the same 0700 directory, then a rename. */
export async function writeCredential(file: string, credential: StoredCredential): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const temporary = `${file}.${process.pid}.tmp`;
  await fs.writeFile(temporary, JSON.stringify(credential, null, 2) + '\n', { mode: 0o600, flag: 'w' });
  await fs.chmod(temporary, 0o600);
  await fs.rename(temporary, file);
}
