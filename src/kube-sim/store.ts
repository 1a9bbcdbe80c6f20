import { randomUUID } from 'node:crypto';
import type { Json } from './patch.ts';

/** One object as stored: plain JSON with the standard `metadata`. */
export type K8sObject = { [key: string]: Json } & { metadata: ObjectMeta };
export type ObjectMeta = { [key: string]: Json } & {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  labels?: { [key: string]: string };
  annotations?: { [key: string]: string };
};

export interface ResourceType {
  readonly resource: string;
  readonly kind: string;
  readonly group: string;
  readonly version: string;
  readonly namespaced: boolean;
  /** Writes to the main resource never change `.status` (it is a subresource), as on a real apiserver. */
  readonly statusSubresource: boolean;
  /** `metadata.generation` counts spec changes for these kinds. */
  readonly tracksGeneration: boolean;
}

export const RESOURCE_TYPES: readonly ResourceType[] = [
  {
    resource: 'pods',
    kind: 'Pod',
    group: '',
    version: 'v1',
    namespaced: true,
    statusSubresource: true,
    tracksGeneration: false,
  },
  {
    resource: 'configmaps',
    kind: 'ConfigMap',
    group: '',
    version: 'v1',
    namespaced: true,
    statusSubresource: false,
    tracksGeneration: false,
  },
  {
    resource: 'nodes',
    kind: 'Node',
    group: '',
    version: 'v1',
    namespaced: false,
    statusSubresource: true,
    tracksGeneration: false,
  },
  {
    resource: 'deployments',
    kind: 'Deployment',
    group: 'apps',
    version: 'v1',
    namespaced: true,
    statusSubresource: true,
    tracksGeneration: true,
  },
  {
    resource: 'replicasets',
    kind: 'ReplicaSet',
    group: 'apps',
    version: 'v1',
    namespaced: true,
    statusSubresource: true,
    tracksGeneration: true,
  },
  {
    resource: 'daemonsets',
    kind: 'DaemonSet',
    group: 'apps',
    version: 'v1',
    namespaced: true,
    statusSubresource: true,
    tracksGeneration: true,
  },
  {
    resource: 'poddisruptionbudgets',
    kind: 'PodDisruptionBudget',
    group: 'policy',
    version: 'v1',
    namespaced: true,
    statusSubresource: true,
    tracksGeneration: true,
  },
];

export function resourceType(resource: string): ResourceType {
  const type = RESOURCE_TYPES.find((t) => t.resource === resource);
  if (!type) throw new Error(`the double does not serve ${resource}`);
  return type;
}

export function apiVersionOf(type: ResourceType): string {
  return type.group ? `${type.group}/${type.version}` : type.version;
}

const key = (resource: string, namespace: string | undefined, name: string) =>
  `${resource}/${namespace ?? ''}/${name}`;

/** The double's etcd: objects by resource/namespace/name with one cluster-wide resourceVersion counter. */
export class ObjectStore {
  private readonly objects = new Map<string, K8sObject>();
  private version = 1000;

  constructor(private readonly now: () => Date) {}

  get(resource: string, namespace: string | undefined, name: string): K8sObject | undefined {
    const found = this.objects.get(key(resource, namespace, name));
    return found ? structuredClone(found) : undefined;
  }

  list(resource: string, namespace?: string): K8sObject[] {
    const prefix = namespace === undefined ? `${resource}/` : `${resource}/${namespace}/`;
    return [...this.objects.entries()]
      .filter(([k]) => k.startsWith(prefix))
      .map(([, v]) => structuredClone(v))
      .sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1));
  }

  /** Stores a new object, assigning uid, resourceVersion, creationTimestamp and generation. */
  create(resource: string, obj: K8sObject): K8sObject {
    const type = resourceType(resource);
    const stored = structuredClone(obj);
    stored['apiVersion'] = apiVersionOf(type);
    stored['kind'] = type.kind;
    stored.metadata.uid = randomUUID();
    stored.metadata.resourceVersion = String(++this.version);
    stored.metadata['creationTimestamp'] = this.timestamp();
    if (type.tracksGeneration) stored.metadata.generation = 1;
    this.objects.set(key(resource, stored.metadata.namespace, stored.metadata.name), stored);
    return structuredClone(stored);
  }

  /** Replaces an existing object, bumping resourceVersion (and generation when the spec changed). */
  update(resource: string, obj: K8sObject): K8sObject {
    const type = resourceType(resource);
    const k = key(resource, obj.metadata.namespace, obj.metadata.name);
    const old = this.objects.get(k);
    if (!old) throw new Error(`update of missing ${k}`);
    const stored = structuredClone(obj);
    if (JSON.stringify(stored) === JSON.stringify(old)) return structuredClone(old); // no-op writes keep the version
    stored.metadata.resourceVersion = String(++this.version);
    if (type.tracksGeneration && JSON.stringify(stored['spec']) !== JSON.stringify(old['spec'])) {
      stored.metadata.generation = (old.metadata.generation ?? 1) + 1;
    }
    this.objects.set(k, stored);
    return structuredClone(stored);
  }

  delete(resource: string, namespace: string | undefined, name: string): boolean {
    return this.objects.delete(key(resource, namespace, name));
  }

  currentVersion(): string {
    return String(this.version);
  }

  timestamp(): string {
    // The apiserver writes RFC 3339 with second precision.
    return this.now()
      .toISOString()
      .replace(/\.\d{3}Z$/, 'Z');
  }
}
