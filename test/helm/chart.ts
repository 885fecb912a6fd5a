import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';

/** Helpers of the chart suites: render like `helm template` (offline Go renderer, or helm when on PATH). */

export const CHART = path.resolve('helm/agent-bom');
export const EXAMPLES_DIR = path.resolve('docs/deploy/values');
export const EXAMPLES = readdirSync(EXAMPLES_DIR)
  .filter((f) => f.endsWith('.yaml'))
  .sort();

/** The default values and each example of docs/deploy/values: [name, values files]. */
export const CASES: [string, string[]][] = [
  ['defaults', []],
  ...EXAMPLES.map((f): [string, string[]] => [f, [path.join(EXAMPLES_DIR, f)]]),
];

/** Arbitrary JSON as the tests walk it (rendered objects, schemas). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Loose = Record<string, any>;

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
}

export interface Rendered {
  text: string;
  objects: K8sObject[];
}

let renderer: string | undefined;

/** The renderer binary: built once per version of its source and cached (test/helm/render/build.sh). */
export function rendererPath(): string {
  renderer ??= execFileSync('sh', [path.resolve('test/helm/render/build.sh')], { encoding: 'utf8' }).trim();
  return renderer;
}

export class RenderError extends Error {}

/** Renders the chart with the given values files (paths) the way `helm template` does. */
export function render(valuesFiles: string[] = [], options: { apiVersions?: string[] } = {}): Rendered {
  const args = [
    ...valuesFiles.flatMap((f) => ['-f', f]),
    ...(options.apiVersions ?? []).flatMap((a) => ['--api-versions', a]),
  ];
  const helm = spawnSync('sh', ['-c', 'command -v helm'], { encoding: 'utf8' }).stdout.trim();
  const result = helm
    ? spawnSync(helm, ['template', 'agent-bom', CHART, ...args], { encoding: 'utf8' })
    : spawnSync(rendererPath(), [...args, CHART], { encoding: 'utf8' });
  if (result.status !== 0) throw new RenderError(result.stderr.trim());
  const objects = parseAllDocuments(result.stdout)
    .map((doc) => {
      if (doc.errors.length) throw new Error(`rendered YAML does not parse: ${doc.errors[0]!.message}`);
      return doc.toJS() as K8sObject | null;
    })
    .filter((o): o is K8sObject => o !== null);
  return { text: result.stdout, objects };
}

export interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[];
  securityContext?: Record<string, unknown>;
  resources?: { requests?: Record<string, unknown>; limits?: Record<string, unknown> };
  volumeMounts?: { name: string; mountPath: string }[];
}

export interface PodSpec {
  automountServiceAccountToken?: boolean;
  securityContext?: Record<string, unknown>;
  containers: Container[];
  initContainers?: Container[];
  volumes?: { name: string; secret?: unknown; configMap?: unknown; emptyDir?: unknown }[];
}

/** The pod template of a workload object, or undefined for other kinds. */
export function podSpecOf(object: K8sObject): PodSpec | undefined {
  const spec = object.spec as Loose | undefined;
  switch (object.kind) {
    case 'Deployment':
    case 'StatefulSet':
    case 'DaemonSet':
    case 'Job':
      return spec?.template?.spec as PodSpec;
    case 'CronJob':
      return spec?.jobTemplate?.spec?.template?.spec as PodSpec;
    default:
      return undefined;
  }
}

export function containersOf(pod: PodSpec): Container[] {
  return [...(pod.initContainers ?? []), ...pod.containers];
}
