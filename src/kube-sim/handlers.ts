import type { Controller } from './controller.ts';
import { checkEviction, withBudgetStatus } from './disruption.ts';
import {
  jsonPatch,
  mergePatch,
  strategicMergePatch,
  PatchError,
  JSON_PATCH,
  MERGE_PATCH,
  STRATEGIC_MERGE_PATCH,
  type Json,
} from './patch.ts';
import { parseFieldSelector, parseLabelSelector, selectorString } from './selectors.ts';
import { badRequest, conflict, alreadyExists, failure, invalid, notFound } from './status.ts';
import { apiVersionOf, type K8sObject, type ObjectStore, type ResourceType } from './store.ts';
import { validate } from './validate.ts';

/** What a request addresses: `/api/v1/namespaces/{ns}/pods/{name}/eviction` → pods, ns, name, eviction. */
export interface Route {
  readonly type: ResourceType;
  readonly namespace?: string;
  readonly name?: string;
  readonly subresource?: string;
}

export interface Reply {
  readonly code: number;
  readonly body: unknown;
}

export interface HandlerHooks {
  readonly neverEvictable: Set<string>;
  /** Pods whose deletion lingers (deletionTimestamp set) for this many more reads, by `ns/name`. */
  readonly heldDeletions: Map<string, number>;
  readonly heldRollouts: Map<string, number>;
}

type Obj = { [key: string]: Json };
const asObj = (v: Json | undefined): Obj =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? v : {};

/** The REST semantics of each verb over the store (https://kubernetes.io/docs/reference/using-api/api-concepts/). */
export class Handlers {
  constructor(
    private readonly store: ObjectStore,
    private readonly controller: Controller,
    private readonly hooks: HandlerHooks,
  ) {}

  list(route: Route, query: URLSearchParams): Reply {
    const labels = query.get('labelSelector');
    const fields = query.get('fieldSelector');
    const byLabel = labels ? parseLabelSelector(labels) : () => true;
    const byField = fields ? parseFieldSelector(fields, route.type.resource) : () => true;
    const items = this.store
      .list(route.type.resource, route.namespace)
      .filter((o) => byLabel(o.metadata.labels ?? {}) && byField(o))
      .map((o) => this.present(route.type, o));
    return {
      code: 200,
      body: {
        apiVersion: apiVersionOf(route.type),
        kind: `${route.type.kind}List`,
        metadata: { resourceVersion: this.store.currentVersion() },
        items,
      },
    };
  }

  get(route: Route): Reply {
    const id = `${route.namespace}/${route.name}`;
    const held = route.type.resource === 'deployments' ? this.hooks.heldRollouts.get(id) : undefined;
    if (held !== undefined && held > 0) this.hooks.heldRollouts.set(id, held - 1);
    else if (held !== undefined) {
      // The held reads are used up: this read sees the rollout complete.
      this.hooks.heldRollouts.delete(id);
      this.controller.reconcile();
    }
    if (route.type.resource === 'pods' && this.hooks.heldDeletions.has(id)) this.ageDeletion(id, route);
    const obj = this.mustGet(route);
    if (route.subresource === 'scale') return { code: 200, body: toScale(obj) };
    return { code: 200, body: this.present(route.type, obj) };
  }

  create(route: Route, body: unknown, dryRun: boolean): Reply {
    const obj = asK8sObject(body, route);
    if (this.store.get(route.type.resource, route.namespace, obj.metadata.name)) {
      throw alreadyExists(route.type.resource, route.type.group, obj.metadata.name);
    }
    const problem = validate(route.type, obj, undefined);
    if (problem) throw problem;
    if (dryRun)
      return { code: 201, body: { ...obj, apiVersion: apiVersionOf(route.type), kind: route.type.kind } };
    const created = this.store.create(route.type.resource, obj);
    this.controller.reconcile();
    return { code: 201, body: created };
  }

  replace(route: Route, body: unknown, dryRun: boolean): Reply {
    const old = this.mustGet(route);
    if (route.subresource === 'scale') return this.writeScale(route, old, asObj(body as Json), dryRun);
    return { code: 200, body: this.commit(route, old, asK8sObject(body, route), dryRun) };
  }

  patch(route: Route, contentType: string, body: unknown, dryRun: boolean): Reply {
    const old = this.mustGet(route);
    const base = route.subresource === 'scale' ? toScale(old) : old;
    const patched = applyPatch(contentType, base as Json, body as Json);
    if (route.subresource === 'scale') return this.writeScale(route, old, asObj(patched), dryRun);
    return { code: 200, body: this.commit(route, old, asK8sObject(patched, route), dryRun) };
  }

  remove(route: Route, dryRun: boolean): Reply {
    const old = this.mustGet(route);
    if (dryRun) return { code: 200, body: old };
    const id = `${route.namespace}/${route.name}`;
    if (route.type.resource === 'pods' && this.hooks.heldDeletions.has(id)) {
      old.metadata['deletionTimestamp'] = this.store.timestamp();
      const terminating = this.store.update('pods', old);
      this.controller.reconcile();
      return { code: 200, body: terminating };
    }
    this.store.delete(route.type.resource, route.namespace, old.metadata.name);
    this.controller.reconcile();
    return { code: 200, body: old };
  }

  evict(route: Route, body: unknown, dryRun: boolean): Reply {
    const eviction = asObj(body as Json);
    if (eviction['kind'] !== 'Eviction' || asObj(eviction['metadata'])['name'] !== route.name) {
      throw badRequest(`name in URL does not match name in Eviction object`);
    }
    const problem = checkEviction(this.store, route.namespace!, route.name!, this.hooks.neverEvictable);
    if (problem) throw problem;
    if (!dryRun) this.remove({ ...route, subresource: undefined }, false);
    return {
      code: 201,
      body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 },
    };
  }

  private commit(route: Route, old: K8sObject, candidate: K8sObject, dryRun: boolean): K8sObject {
    const { type } = route;
    const sent = candidate.metadata.resourceVersion;
    if (sent !== undefined && sent !== old.metadata.resourceVersion)
      throw conflict(type.resource, type.group, old.metadata.name);
    if (candidate.metadata.name !== old.metadata.name) {
      throw badRequest(
        `the name of the object (${candidate.metadata.name}) does not match the name on the URL (${old.metadata.name})`,
      );
    }
    const next: K8sObject = { ...candidate, apiVersion: old['apiVersion']!, kind: old['kind']! };
    next.metadata = {
      ...candidate.metadata,
      uid: old.metadata.uid!,
      resourceVersion: old.metadata.resourceVersion!,
      creationTimestamp: old.metadata['creationTimestamp']!,
    };
    if (old.metadata.namespace !== undefined) next.metadata.namespace = old.metadata.namespace;
    if (old.metadata.generation !== undefined) next.metadata.generation = old.metadata.generation;
    if (type.statusSubresource) {
      if (old['status'] === undefined) delete next['status'];
      else next['status'] = old['status'];
    }
    const problem = validate(type, next, old);
    if (problem) throw problem;
    if (dryRun) return next;
    const stored = this.store.update(type.resource, next);
    this.controller.reconcile();
    return this.present(type, stored);
  }

  private writeScale(route: Route, old: K8sObject, scale: Obj, dryRun: boolean): Reply {
    const meta = asObj(scale['metadata']);
    if (meta['resourceVersion'] !== undefined && meta['resourceVersion'] !== old.metadata.resourceVersion) {
      throw conflict(route.type.resource, route.type.group, old.metadata.name);
    }
    const replicas = asObj(scale['spec'])['replicas'];
    if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) {
      throw invalid('Scale', 'autoscaling', old.metadata.name, [
        {
          field: 'spec.replicas',
          message: `Invalid value: ${JSON.stringify(replicas ?? null)}: must be greater than or equal to 0`,
        },
      ]);
    }
    const next = structuredClone(old);
    next['spec'] = { ...asObj(old['spec']), replicas };
    if (dryRun) return { code: 200, body: toScale(next) };
    this.store.update(route.type.resource, next);
    this.controller.reconcile();
    return { code: 200, body: toScale(this.mustGet(route)) };
  }

  /** A held pod stays visible (terminating) for its remaining reads, then the read after finds it gone. */
  private ageDeletion(id: string, route: Route): void {
    const pod = this.store.get('pods', route.namespace, route.name!);
    if (!pod || pod.metadata['deletionTimestamp'] === undefined) return; // reads before deletion do not count
    const left = this.hooks.heldDeletions.get(id)!;
    if (left > 0) {
      this.hooks.heldDeletions.set(id, left - 1);
      return;
    }
    this.hooks.heldDeletions.delete(id);
    this.store.delete('pods', route.namespace, route.name!);
    this.controller.reconcile();
  }

  private mustGet(route: Route): K8sObject {
    const obj = this.store.get(route.type.resource, route.namespace, route.name!);
    if (!obj) throw notFound(route.type.resource, route.type.group, route.name!);
    return obj;
  }

  private present(type: ResourceType, obj: K8sObject): K8sObject {
    return type.resource === 'poddisruptionbudgets' ? withBudgetStatus(obj, this.store) : obj;
  }
}

/** Picks the patch algorithm by Content-Type; anything else is 415 as on the apiserver. */
export function applyPatch(contentType: string, target: Json, patch: Json): Json {
  try {
    if (contentType === JSON_PATCH) return jsonPatch(target, patch);
    if (contentType === MERGE_PATCH) return mergePatch(target, patch);
    if (contentType === STRATEGIC_MERGE_PATCH) return strategicMergePatch(target, patch);
  } catch (err) {
    if (err instanceof PatchError) throw failure(422, 'Invalid', err.message);
    throw err;
  }
  throw failure(
    415,
    'UnsupportedMediaType',
    `the body of the request was in an unknown format - accepted media types include: ${JSON_PATCH}, ${MERGE_PATCH}, ${STRATEGIC_MERGE_PATCH}`,
  );
}

function asK8sObject(body: unknown, route: Route): K8sObject {
  const obj = asObj(body as Json);
  const meta = asObj(obj['metadata']);
  if (typeof meta['name'] !== 'string') throw badRequest('metadata.name is required');
  if (route.type.namespaced) {
    if (meta['namespace'] !== undefined && meta['namespace'] !== route.namespace) {
      throw badRequest(
        'the namespace of the provided object does not match the namespace sent on the request',
      );
    }
    meta['namespace'] = route.namespace!;
  }
  return { ...obj, metadata: meta } as K8sObject;
}

/** The autoscaling/v1 Scale view of a Deployment (its `/scale` subresource). */
export function toScale(dep: K8sObject): Obj {
  const spec = asObj(dep['spec']);
  return {
    apiVersion: 'autoscaling/v1',
    kind: 'Scale',
    metadata: {
      name: dep.metadata.name,
      namespace: dep.metadata.namespace ?? null,
      uid: dep.metadata.uid ?? null,
      resourceVersion: dep.metadata.resourceVersion ?? null,
      creationTimestamp: dep.metadata['creationTimestamp'] ?? null,
    },
    spec: { replicas: typeof spec['replicas'] === 'number' ? spec['replicas'] : 1 },
    status: { replicas: asObj(dep['status'])['replicas'] ?? 0, selector: selectorString(spec['selector']) },
  };
}
