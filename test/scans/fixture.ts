import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const OSV_FIXTURES = path.resolve('test/fixtures/osv');
export const LOCKFILE_FIXTURES = path.resolve('test/fixtures/lockfiles');

/** A planted credential value: it must never appear in any response, stored report or log. */
export const PLANTED_SECRET = 'ghp_PLANTEDsecretVALUE0123456789abcdefXYZ';

/**
 * A home and a project with known-vulnerable pinned npm and PyPI packages (the OSV fixtures name them):
 * a Claude Desktop config whose servers run `npx …server-filesystem@2025.1.14` (TEST-0001), a local node server
 * whose package-lock pins lodash 4.17.20 and minimist 1.2.5, a docker image without a tag, and a credential;
 * a project whose requirements.txt pins Jinja2 2.10 and poetry.lock PyYAML 5.3.1.
 */
export async function makeScanFixture(): Promise<{
  root: string;
  home: string;
  project: string;
  local: string;
}> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'agent-bom-scan-'));
  const home = path.join(root, 'home');
  const project = path.join(root, 'project');
  const local = path.join(root, 'srv', 'local');
  await fs.mkdir(path.join(home, '.config', 'Claude'), { recursive: true });
  await fs.mkdir(path.join(local, 'dist'), { recursive: true });
  await fs.mkdir(project, { recursive: true });
  await fs.copyFile(path.join(LOCKFILE_FIXTURES, 'package-lock.json'), path.join(local, 'package-lock.json'));
  await fs.writeFile(path.join(local, 'package.json'), '{"name":"local-server","version":"1.0.0"}');
  await fs.writeFile(path.join(local, 'dist', 'index.js'), '');
  await fs.copyFile(path.join(LOCKFILE_FIXTURES, 'requirements.txt'), path.join(project, 'requirements.txt'));
  await fs.copyFile(path.join(LOCKFILE_FIXTURES, 'poetry.lock'), path.join(project, 'poetry.lock'));
  const config = {
    mcpServers: {
      filesystem: {
        command: 'npx',
        args: ['-y', '@modelcontextprotocol/server-filesystem@2025.1.14', '/tmp'],
      },
      git: { command: 'uvx', args: ['mcp-server-git==0.6.2'] },
      local: {
        command: 'node',
        args: [path.join(local, 'dist', 'index.js')],
        env: { GITHUB_TOKEN: PLANTED_SECRET },
      },
      github: {
        command: 'docker',
        args: [
          'run',
          '-i',
          '--rm',
          '-e',
          `GITHUB_PERSONAL_ACCESS_TOKEN=${PLANTED_SECRET}`,
          'ghcr.io/github/github-mcp-server',
        ],
      },
      remote: { url: 'https://mcp.example.com/mcp', headers: { Authorization: `Bearer ${PLANTED_SECRET}` } },
    },
  };
  await fs.writeFile(
    path.join(home, '.config', 'Claude', 'claude_desktop_config.json'),
    JSON.stringify(config, null, 2),
  );
  return { root, home, project, local };
}

/** "Upgrades" the local server's lockfile and the project's pins to the fixed versions. */
export async function upgradeFixture(f: { local: string; project: string }): Promise<void> {
  const lockPath = path.join(f.local, 'package-lock.json');
  const lock = JSON.parse(await fs.readFile(lockPath, 'utf8'));
  lock.packages['node_modules/lodash'].version = '4.17.21';
  lock.packages['node_modules/@scope/x/node_modules/minimist'].version = '1.2.6';
  await fs.writeFile(lockPath, JSON.stringify(lock, null, 2));
  await fs.writeFile(path.join(f.project, 'requirements.txt'), 'Jinja2==2.10.1\nrequests>=2.0\n');
  const poetry = await fs.readFile(path.join(f.project, 'poetry.lock'), 'utf8');
  await fs.writeFile(
    path.join(f.project, 'poetry.lock'),
    poetry.replace('version = "5.3.1"', 'version = "5.4"'),
  );
}
