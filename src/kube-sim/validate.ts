import type { Json } from './patch.ts';
import { matchesLabelSelector } from './selectors.ts';
import { invalid, type StatusError } from './status.ts';
import type { K8sObject, ResourceType } from './store.ts';

/** The validation rules of the fields Rebound writes; enough for 422 Invalid to be real where it matters. */

type Obj = { [key: string]: Json };
const asObj = (v: Json | undefined): Obj =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? v : {};
type Cause = { field: string; message: string };

export function validate(
  type: ResourceType,
  obj: K8sObject,
  old: K8sObject | undefined,
): StatusError | undefined {
  const causes: Cause[] = [];
  const name = obj.metadata.name;
  if (typeof name !== 'string' || !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(name)) {
    causes.push({
      field: 'metadata.name',
      message: `Invalid value: ${JSON.stringify(name)}: a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.'`,
    });
  }
  if (type.resource === 'deployments') causes.push(...validateDeployment(obj, old));
  if (type.resource === 'configmaps') causes.push(...validateConfigMap(obj));
  if (
    type.resource === 'pods' &&
    old &&
    JSON.stringify(immutablePodSpec(old)) !== JSON.stringify(immutablePodSpec(obj))
  ) {
    causes.push({
      field: 'spec',
      message:
        'Forbidden: pod updates may not change fields other than `spec.containers[*].image`, `spec.activeDeadlineSeconds`, `spec.tolerations` (only additions to existing tolerations) or `spec.terminationGracePeriodSeconds`',
    });
  }
  return causes.length > 0 ? invalid(type.kind, type.group, String(name), causes) : undefined;
}

function validateDeployment(obj: K8sObject, old: K8sObject | undefined): Cause[] {
  const causes: Cause[] = [];
  const spec = asObj(obj['spec']);
  const replicas = spec['replicas'];
  if (
    replicas !== undefined &&
    (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0)
  ) {
    causes.push({
      field: 'spec.replicas',
      message: `Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0`,
    });
  }
  const selector = spec['selector'];
  const labels = asObj(asObj(asObj(spec['template'])['metadata'])['labels']) as Record<string, string>;
  if (
    Object.keys(asObj(asObj(selector)['matchLabels'])).length === 0 &&
    !Array.isArray(asObj(selector)['matchExpressions'])
  ) {
    causes.push({ field: 'spec.selector', message: 'Required value' });
  } else if (!matchesLabelSelector(selector ?? null, labels)) {
    causes.push({
      field: 'spec.template.metadata.labels',
      message: 'Invalid value: `selector` does not match template `labels`',
    });
  }
  if (old && JSON.stringify(asObj(old['spec'])['selector']) !== JSON.stringify(selector)) {
    causes.push({ field: 'spec.selector', message: 'Invalid value: field is immutable' });
  }
  const containers = asObj(asObj(spec['template'])['spec'])['containers'];
  if (!Array.isArray(containers) || containers.length === 0) {
    causes.push({ field: 'spec.template.spec.containers', message: 'Required value' });
  } else {
    containers.forEach((c, i) => {
      if (typeof asObj(c)['name'] !== 'string')
        causes.push({ field: `spec.template.spec.containers[${i}].name`, message: 'Required value' });
      if (typeof asObj(c)['image'] !== 'string')
        causes.push({ field: `spec.template.spec.containers[${i}].image`, message: 'Required value' });
    });
  }
  return causes;
}

function validateConfigMap(obj: K8sObject): Cause[] {
  const causes: Cause[] = [];
  for (const [k, v] of Object.entries(asObj(obj['data']))) {
    if (!/^[-._a-zA-Z0-9]+$/.test(k))
      causes.push({
        field: `data[${k}]`,
        message: `Invalid value: ${JSON.stringify(k)}: a valid config key must consist of alphanumeric characters, '-', '_' or '.'`,
      });
    if (typeof v !== 'string')
      causes.push({ field: `data[${k}]`, message: 'Invalid value: must be a string' });
  }
  return causes;
}

function immutablePodSpec(pod: K8sObject): Json {
  const spec = structuredClone(asObj(pod['spec']));
  delete spec['activeDeadlineSeconds'];
  delete spec['tolerations'];
  delete spec['terminationGracePeriodSeconds'];
  delete spec['nodeName'];
  const containers = Array.isArray(spec['containers']) ? spec['containers'] : [];
  spec['containers'] = containers.map((c) => ({ ...asObj(c), image: null }));
  return spec;
}
