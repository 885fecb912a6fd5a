import type { K8sObject } from './chart.js';

/**
 * Validates rendered objects against the Kubernetes OpenAPI schemas compiled into the `kubernetes-models`
 * packages (offline), and refuses fields the schema does not define. The compiled validators ignore unknown
 * fields (Kubernetes' OpenAPI has no `additionalProperties: false`), so each object is validated through a
 * proxy that records which fields the validator read: a field it never looked at is not in the schema — a typo
 * such as `readOnlyRootFileSystem` that the API server would silently drop.
 */

type Validator = ((data: unknown) => boolean) & {
  errors?: { instancePath: string; message?: string; keyword: string; params: unknown }[] | null;
};

const CORE: Record<string, string> = {
  'v1/ServiceAccount': 'IoK8sApiCoreV1ServiceAccount',
  'v1/Service': 'IoK8sApiCoreV1Service',
  'v1/ConfigMap': 'IoK8sApiCoreV1ConfigMap',
  'apps/v1/Deployment': 'IoK8sApiAppsV1Deployment',
  'batch/v1/Job': 'IoK8sApiBatchV1Job',
  'batch/v1/CronJob': 'IoK8sApiBatchV1CronJob',
  'policy/v1/PodDisruptionBudget': 'IoK8sApiPolicyV1PodDisruptionBudget',
  'autoscaling/v2/HorizontalPodAutoscaler': 'IoK8sApiAutoscalingV2HorizontalPodAutoscaler',
  'networking.k8s.io/v1/Ingress': 'IoK8sApiNetworkingV1Ingress',
  'networking.k8s.io/v1/NetworkPolicy': 'IoK8sApiNetworkingV1NetworkPolicy',
};

async function validatorFor(object: K8sObject): Promise<Validator> {
  const id = `${object.apiVersion}/${object.kind}`;
  if (CORE[id])
    return ((await import(`kubernetes-models/_schemas/${CORE[id]}`)) as { validate: Validator }).validate;
  if (id === 'monitoring.coreos.com/v1/ServiceMonitor') {
    // This package exports its models, not its compiled schemas: validate through the model (which keeps the
    // nested objects it is given, so the proxy still sees what the validator reads).
    const { ServiceMonitor } =
      await import('@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1');
    const check = ((data: unknown) => {
      try {
        new ServiceMonitor(data as ConstructorParameters<typeof ServiceMonitor>[0]).validate();
        return true;
      } catch (error) {
        check.errors = [{ instancePath: '', keyword: 'schema', message: String(error), params: {} }];
        return false;
      }
    }) as Validator;
    return check;
  }
  throw new Error(`no schema known for ${id} (${object.metadata?.name}): add it to test/helm/k8s-schema.ts`);
}

function tracked(value: unknown, at: string, read: Set<string>, present: Set<string>): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (!Array.isArray(value)) for (const key of Object.keys(value)) present.add(`${at}/${key}`);
  return new Proxy(value, {
    get(target, key, receiver) {
      const child = Reflect.get(target, key, receiver) as unknown;
      if (typeof key !== 'string' || !Object.hasOwn(target, key)) return child;
      read.add(`${at}/${key}`);
      return tracked(child, `${at}/${key}`, read, present);
    },
    has(target, key) {
      if (typeof key === 'string') read.add(`${at}/${key}`);
      return Reflect.has(target, key);
    },
    ownKeys(target) {
      // Maps (labels, annotations, data) are iterated: every key is then accepted by the schema.
      for (const key of Object.keys(target)) read.add(`${at}/${key}`);
      return Reflect.ownKeys(target);
    },
  });
}

/** Problems of one object: schema errors and unknown fields, each with its path. Empty when valid. */
export async function schemaProblems(object: K8sObject): Promise<string[]> {
  const validate = await validatorFor(object);
  const read = new Set<string>();
  const present = new Set<string>();
  const ok = validate(tracked(object, '', read, present));
  const problems = ok
    ? []
    : (validate.errors ?? []).map(
        (e) => `${e.instancePath || '/'} ${e.message ?? e.keyword} ${JSON.stringify(e.params)}`,
      );
  for (const field of present) if (!read.has(field)) problems.push(`${field}: unknown field`);
  return problems;
}
