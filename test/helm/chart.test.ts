import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import {
  CASES,
  CHART,
  type Loose,
  EXAMPLES,
  EXAMPLES_DIR,
  containersOf,
  podSpecOf,
  render,
  type K8sObject,
  type Rendered,
} from './chart.js';
import { schemaProblems } from './k8s-schema.js';

/**
 * The chart rendered like `helm template` (offline Go renderer, or helm where it is on PATH) with its defaults
 * and each example of docs/deploy/values: every object valid against the Kubernetes OpenAPI schemas, yamllint
 * clean, every workload locked down, no credential value anywhere, the gateway overlay naming Secrets only.
 */

const rendered = new Map<string, Rendered>(CASES.map(([name, files]) => [name, render(files)]));
const objectsOf = (name: string) => rendered.get(name)!.objects;
const workloads = (name: string) => objectsOf(name).filter((o) => podSpecOf(o));

/** Names of variables that carry a credential (values must come from a Secret). */
const SECRET_ENV = /(TOKEN|SECRET|PASSWORD|API_KEY|APIKEY|PRIVATE|CREDENTIAL|DATABASE_URL)/i;
/** Shapes of credential values that must never appear in a manifest. */
const SECRET_VALUE = [
  /abom_[A-Za-z0-9]/,
  /-----BEGIN [A-Z ]*PRIVATE KEY-----/,
  /postgres(ql)?:\/\/[^\s:@/]+:[^\s@/]+@/,
  /\bgh[pous]_[A-Za-z0-9]{20,}/,
];

function yamllint(text: string): string {
  const result = spawnSync(
    'yamllint',
    ['-f', 'parsable', '-c', path.resolve('test/helm/yamllint.yaml'), '-'],
    {
      input: text,
      encoding: 'utf8',
    },
  );
  if (result.error)
    throw new Error(`yamllint is not installed (apt-get install yamllint): ${result.error.message}`);
  return result.status === 0 ? '' : result.stdout + result.stderr;
}

describe.each(CASES.map(([name]) => name))('chart rendered with %s', (name) => {
  it('renders the components the values ask for', () => {
    const kinds = objectsOf(name).map((o) => `${o.kind}/${o.metadata.name}`);
    expect(kinds.length).toBeGreaterThan(1);
    if (name !== 'gateway-only.yaml') {
      expect(kinds).toEqual(
        expect.arrayContaining([
          'Deployment/agent-bom-api',
          'Service/agent-bom-api',
          'Job/agent-bom-migrate',
        ]),
      );
    } else {
      expect(kinds).toEqual(expect.arrayContaining(['Deployment/agent-bom-gateway']));
      expect(kinds).not.toContain('Deployment/agent-bom-api');
    }
    expect(objectsOf(name).filter((o) => o.kind === 'Secret')).toEqual([]);
  });

  it('every object is valid against the Kubernetes OpenAPI schemas, with no unknown field', async () => {
    const problems: string[] = [];
    for (const object of objectsOf(name)) {
      for (const p of await schemaProblems(object))
        problems.push(`${object.kind}/${object.metadata.name}: ${p}`);
    }
    expect(problems).toEqual([]);
  });

  it('passes yamllint', () => {
    expect(yamllint(rendered.get(name)!.text)).toBe('');
  });

  it('every workload runs non-root, read-only, without capabilities, seccomp RuntimeDefault, no token, bounded', () => {
    const problems: string[] = [];
    for (const object of workloads(name)) {
      const pod = podSpecOf(object)!;
      const where = `${object.kind}/${object.metadata.name}`;
      if (pod.automountServiceAccountToken !== false)
        problems.push(`${where}: service-account token mounted`);
      const podSc = pod.securityContext ?? {};
      if (podSc.runAsNonRoot !== true) problems.push(`${where}: pod runAsNonRoot`);
      if ((podSc.seccompProfile as { type?: string })?.type !== 'RuntimeDefault')
        problems.push(`${where}: pod seccomp`);
      for (const c of containersOf(pod)) {
        const sc = (c.securityContext ?? {}) as Loose;
        const at = `${where}/${c.name}`;
        if (sc.runAsNonRoot !== true || sc.runAsUser === 0) problems.push(`${at}: may run as root`);
        if (sc.readOnlyRootFilesystem !== true) problems.push(`${at}: writable root filesystem`);
        if (sc.allowPrivilegeEscalation !== false) problems.push(`${at}: privilege escalation allowed`);
        if (sc.privileged === true) problems.push(`${at}: privileged`);
        if (!sc.capabilities?.drop?.includes('ALL') || sc.capabilities?.add?.length)
          problems.push(`${at}: capabilities`);
        if (
          (sc.seccompProfile?.type ?? (podSc.seccompProfile as { type?: string })?.type) !== 'RuntimeDefault'
        ) {
          problems.push(`${at}: seccomp`);
        }
        for (const kind of ['requests', 'limits'] as const) {
          if (!c.resources?.[kind]?.cpu || !c.resources?.[kind]?.memory) problems.push(`${at}: no ${kind}`);
        }
      }
    }
    for (const sa of objectsOf(name).filter((o) => o.kind === 'ServiceAccount')) {
      if ((sa as { automountServiceAccountToken?: boolean }).automountServiceAccountToken !== false) {
        problems.push(`ServiceAccount/${sa.metadata.name}: token automount`);
      }
    }
    expect(workloads(name).length).toBeGreaterThan(0);
    expect(problems).toEqual([]);
  });

  it('renders no credential value: credential variables come from Secrets, ConfigMaps hold none', () => {
    const problems: string[] = [];
    for (const object of workloads(name)) {
      for (const c of containersOf(podSpecOf(object)!)) {
        for (const env of c.env ?? []) {
          if (SECRET_ENV.test(env.name) && (env.value !== undefined || !env.valueFrom?.secretKeyRef)) {
            problems.push(`${object.metadata.name}/${c.name}: ${env.name} is not from a Secret`);
          }
        }
        for (const arg of [...(c.command ?? []), ...(c.args ?? [])]) {
          if (/^--.*(token|api-key|password|secret)/i.test(arg))
            problems.push(`${object.metadata.name}/${c.name}: credential flag ${arg}`);
        }
      }
    }
    for (const cm of objectsOf(name).filter((o) => o.kind === 'ConfigMap')) {
      for (const [key, value] of Object.entries((cm as { data?: Record<string, string> }).data ?? {})) {
        for (const shape of SECRET_VALUE)
          if (shape.test(value)) problems.push(`ConfigMap/${cm.metadata.name}:${key} holds ${shape}`);
      }
    }
    const text = rendered.get(name)!.text;
    for (const shape of SECRET_VALUE) if (shape.test(text)) problems.push(`manifest holds ${shape}`);
    expect(problems).toEqual([]);
  });

  it("the gateway overlay names credential variables only, each filled from a Secret in the gateway's env", () => {
    const gateway = objectsOf(name).find(
      (o) => o.kind === 'Deployment' && o.metadata.name === 'agent-bom-gateway',
    );
    const configMap = objectsOf(name).find(
      (o) => o.kind === 'ConfigMap' && o.metadata.name === 'agent-bom-gateway',
    ) as (K8sObject & { data: Record<string, string> }) | undefined;
    if (!gateway) return expect(configMap).toBeUndefined();
    const env = podSpecOf(gateway)!.containers[0]!.env ?? [];
    const overlay = configMap?.data['upstreams.yaml'];
    if (!overlay) return;
    const upstreams = (parse(overlay) as { upstreams: Record<string, string>[] }).upstreams;
    expect(upstreams.length).toBeGreaterThan(0);
    for (const upstream of upstreams) {
      expect(
        Object.keys(upstream).every((k) =>
          ['name', 'url', 'auth', 'token_env', 'header_name', 'tenant', 'transport'].includes(k),
        ),
      ).toBe(true);
      expect(upstream.url).not.toMatch(/\/\/[^/]*@/);
      if (upstream.auth === 'none') {
        expect(upstream.token_env).toBeUndefined();
        continue;
      }
      const variable = env.find((e) => e.name === upstream.token_env);
      expect(variable).toEqual({
        name: upstream.token_env,
        valueFrom: { secretKeyRef: { name: expect.any(String), key: expect.any(String) } },
      });
    }
  });
});

describe('values files', () => {
  it.each([path.join(CHART, 'values.yaml'), ...EXAMPLES.map((f) => path.join(EXAMPLES_DIR, f))])(
    '%s passes yamllint',
    (file) => {
      const result = spawnSync(
        'yamllint',
        ['-f', 'parsable', '-c', path.resolve('test/helm/yamllint-values.yaml'), file],
        { encoding: 'utf8' },
      );
      expect(result.stdout + result.stderr).toBe('');
    },
  );
});

describe('the checks themselves', () => {
  it('the schema check reports a misspelt field, a wrong type and a missing required field', async () => {
    const api = structuredClone(objectsOf('defaults').find((o) => o.kind === 'Deployment')!) as Loose;
    const container = api.spec.template.spec.containers[0];
    container.securityContext.readOnlyRootFileSystem = true;
    container.ports[0].containerPort = '8422';
    delete api.spec.selector;
    const problems = await schemaProblems(api as K8sObject);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringContaining('securityContext/readOnlyRootFileSystem: unknown field'),
        expect.stringMatching(/ports\/0\/containerPort type .*integer/),
        expect.stringMatching(/^\/spec required .*selector/),
      ]),
    );
  });

  it('yamllint reports trailing spaces and duplicate keys', () => {
    expect(yamllint('---\na: 1 \na: 2\n')).toMatch(
      /trailing-spaces[\s\S]*key-duplicates|key-duplicates[\s\S]*trailing-spaces/,
    );
  });
});

describe('chart behaviour', () => {
  it('the gateway is forced to the shared postgres limiter when more than one pod can run', () => {
    const gateway = objectsOf('gateway-multi-replica.yaml').find(
      (o) => o.metadata.name === 'agent-bom-gateway' && o.kind === 'Deployment',
    )!;
    const c = podSpecOf(gateway)!.containers[0]!;
    expect(c.args!.join(' ')).toContain('--rate-limit-backend postgres');
    expect(c.env!.find((e) => e.name === 'DATABASE_URL')?.valueFrom?.secretKeyRef?.name).toBe(
      'agent-bom-database',
    );
    expect(
      c.env!.find((e) => e.name === 'AGENT_BOM_GATEWAY_SESSION_SECRET')?.valueFrom?.secretKeyRef?.name,
    ).toBe('agent-bom-gateway-session');
    const single = objectsOf('gateway-only.yaml').find(
      (o) => o.metadata.name === 'agent-bom-gateway' && o.kind === 'Deployment',
    )!;
    expect(podSpecOf(single)!.containers[0]!.args!.join(' ')).toContain('--rate-limit-backend memory');
  });

  it("the gateway's detector values become its flags", () => {
    const argsOf = (name: string) =>
      podSpecOf(
        objectsOf(name).find((o) => o.metadata.name === 'agent-bom-gateway' && o.kind === 'Deployment')!,
      )!.containers[0]!.args!.join(' ');
    expect(argsOf('gateway-only.yaml')).toContain('--argument-detectors block');
    expect(argsOf('gateway-only.yaml')).not.toMatch(/--detect-credentials|--credential-action/);
    expect(argsOf('gateway-multi-replica.yaml')).toContain(
      '--argument-detectors block --detect-credentials --credential-action block',
    );
    expect(argsOf('gateway-only.yaml')).toContain('--replay-window 5m');
    expect(argsOf('gateway-only.yaml')).not.toMatch(/--block-undeclared|--block-drift/);
    expect(argsOf('gateway-multi-replica.yaml')).toContain(
      '--block-undeclared --block-drift --replay-window 10m',
    );
  });

  it('migrations run as a pre-install/pre-upgrade hook and the API pods then do not migrate at boot', () => {
    const job = objectsOf('defaults').find((o) => o.kind === 'Job')!;
    expect(job.metadata.annotations?.['helm.sh/hook']).toBe('pre-install,pre-upgrade');
    expect(podSpecOf(job)!.containers[0]!.args).toEqual(['migrate', '--json']);
    const api = objectsOf('defaults').find(
      (o) => o.metadata.name === 'agent-bom-api' && o.kind === 'Deployment',
    )!;
    expect(podSpecOf(api)!.containers[0]!.env).toContainEqual({
      name: 'AGENT_BOM_MIGRATE_ON_BOOT',
      value: 'false',
    });
  });

  it('the control plane defaults to 2 replicas with probes on /healthz and /readyz, a PDB and topology spread', () => {
    const api = objectsOf('defaults').find(
      (o) => o.metadata.name === 'agent-bom-api' && o.kind === 'Deployment',
    )! as K8sObject & {
      spec: {
        replicas: number;
        template: { spec: { topologySpreadConstraints: unknown[]; containers: Loose[] } };
      };
    };
    expect(api.spec.replicas).toBe(2);
    const c = api.spec.template.spec.containers[0]!;
    expect([c.livenessProbe.httpGet.path, c.readinessProbe.httpGet.path]).toEqual(['/healthz', '/readyz']);
    expect(api.spec.template.spec.topologySpreadConstraints.length).toBe(2);
    expect(objectsOf('defaults').some((o) => o.kind === 'PodDisruptionBudget')).toBe(true);
    expect(objectsOf('minimal.yaml').some((o) => o.kind === 'PodDisruptionBudget')).toBe(false);
  });

  it('ServiceMonitors are rendered only when asked, and NOTES/hook objects carry no credential', () => {
    expect(
      objectsOf('production.yaml')
        .filter((o) => o.kind === 'ServiceMonitor')
        .map((o) => o.metadata.name),
    ).toEqual(['agent-bom-api', 'agent-bom-gateway']);
    expect(objectsOf('defaults').some((o) => o.kind === 'ServiceMonitor')).toBe(false);
  });
});

describe("the gateway's public URL, state dir and audit file", () => {
  const DATA = '/var/lib/agent-bom/gateway';
  const dir = mkdtempSync(path.join(os.tmpdir(), 'agent-bom-chart-'));
  let n = 0;
  /** The gateway Deployment rendered with one gateway pod and the override on top. */
  function gatewayWith(override: Loose): K8sObject & { spec: Loose } {
    const file = path.join(dir, `v${n++}.yaml`);
    const gateway = {
      enabled: true,
      replicas: 1,
      controlPlane: { tokenSecret: 'agent-bom-gateway-key', url: 'https://cp.example.com' },
      ...override,
    };
    writeFileSync(file, stringify({ gateway }));
    const { objects } = render([file]);
    return objects.find(
      (o) => o.kind === 'Deployment' && o.metadata.name === 'agent-bom-gateway',
    ) as K8sObject & {
      spec: Loose;
    };
  }
  const containerOf = (d: K8sObject) => podSpecOf(d)!.containers[0]!;
  const argsOf = (d: K8sObject) => containerOf(d).args!.join(' ');
  const dataVolume = (d: K8sObject) => podSpecOf(d)!.volumes!.find((v) => v.name === 'data');
  const dataMount = (d: K8sObject) => containerOf(d).volumeMounts!.find((m) => m.name === 'data');
  const envNamed = (d: K8sObject, name: string) => containerOf(d).env!.find((e) => e.name === name);

  it('publicUrl becomes AGENT_BOM_GATEWAY_PUBLIC_URL; empty, the variable is not rendered', () => {
    expect(
      envNamed(gatewayWith({ publicUrl: 'https://mcp.example.com' }), 'AGENT_BOM_GATEWAY_PUBLIC_URL'),
    ).toEqual({
      name: 'AGENT_BOM_GATEWAY_PUBLIC_URL',
      value: 'https://mcp.example.com',
    });
    expect(envNamed(gatewayWith({}), 'AGENT_BOM_GATEWAY_PUBLIC_URL')).toBeUndefined();
    const production = objectsOf('production.yaml').find(
      (o) => o.kind === 'Deployment' && o.metadata.name === 'agent-bom-gateway',
    )!;
    expect(envNamed(production, 'AGENT_BOM_GATEWAY_PUBLIC_URL')?.value).toBe(
      'https://mcp-gateway.internal.example.com',
    );
  });

  it('by default the state dir is an emptyDir mounted writable at its fixed path under a read-only root', () => {
    const d = gatewayWith({});
    expect(argsOf(d)).toContain(`--state-dir ${DATA}`);
    expect(argsOf(d)).not.toContain('--audit-file');
    expect(dataMount(d)).toEqual({ name: 'data', mountPath: DATA });
    expect(dataVolume(d)).toEqual({ name: 'data', emptyDir: { sizeLimit: '128Mi' } });
    expect((containerOf(d).securityContext as Loose).readOnlyRootFilesystem).toBe(true);
    expect(d.spec.strategy.type).toBe('RollingUpdate');
  });

  it('stateDir and auditFile off: no flag, no volume, no mount', () => {
    const d = gatewayWith({ stateDir: { enabled: false } });
    expect(argsOf(d)).not.toMatch(/--state-dir|--audit-file/);
    expect(dataVolume(d)).toBeUndefined();
    expect(dataMount(d)).toBeUndefined();
    expect(
      containerOf(d)
        .env!.map((e) => e.name)
        .filter((e) => /STATE_DIR|AUDIT_FILE/.test(e)),
    ).toEqual([]);
  });

  it('auditFile puts the rotated file in the same volume, which is mounted for it even with stateDir off', () => {
    const both = gatewayWith({ auditFile: { enabled: true, maxSize: '20MiB', keep: 0 } });
    expect(argsOf(both)).toContain(
      `--state-dir ${DATA} --audit-file ${DATA}/audit.jsonl --audit-file-max-size 20MiB --audit-file-keep 0`,
    );
    const auditOnly = gatewayWith({ stateDir: { enabled: false }, auditFile: { enabled: true } });
    expect(argsOf(auditOnly)).not.toContain('--state-dir');
    expect(argsOf(auditOnly)).toContain(
      `--audit-file ${DATA}/audit.jsonl --audit-file-max-size 10MiB --audit-file-keep 5`,
    );
    expect(dataMount(auditOnly)).toEqual({ name: 'data', mountPath: DATA });
    expect(dataVolume(auditOnly)).toEqual({ name: 'data', emptyDir: { sizeLimit: '128Mi' } });
  });

  it('an existing claim replaces the emptyDir, and the single pod is replaced with Recreate, never two on it', () => {
    const d = objectsOf('gateway-only.yaml').find(
      (o) => o.kind === 'Deployment' && o.metadata.name === 'agent-bom-gateway',
    ) as K8sObject & { spec: Loose };
    expect(dataVolume(d)).toEqual({
      name: 'data',
      persistentVolumeClaim: { claimName: 'agent-bom-gateway-state' },
    });
    expect(d.spec.strategy).toEqual({ type: 'Recreate' });
    expect(argsOf(d)).toContain(`--state-dir ${DATA}`);
  });
});
