import type { TargetRef } from '../actions/types.ts';
import type { GuardConfig } from './config.ts';
import { globMatch } from './target.ts';

/**
 * Returns why a target is outside the allowlist, or undefined when it is inside. Cluster-scoped targets
 * (no namespace, e.g. Node) pass the namespace check; their kind must still be listed.
 */
export function allowlistRefusal(target: TargetRef, allowlist: GuardConfig['allowlist']): string | undefined {
  if (!allowlist.clusters.some((p) => globMatch(p, target.cluster))) {
    return `cluster "${target.cluster}" is not in guard.allowlist.clusters (${list(allowlist.clusters)})`;
  }
  if (!allowlist.kinds.includes(target.kind)) {
    return `kind "${target.kind}" is not in guard.allowlist.kinds (${list(allowlist.kinds)})`;
  }
  if (target.namespace !== undefined && !allowlist.namespaces.some((p) => globMatch(p, target.namespace!))) {
    return (
      `namespace "${target.namespace}" is not in guard.allowlist.namespaces (${list(allowlist.namespaces)}); ` +
      'add it to allow automation there'
    );
  }
  return undefined;
}

function list(values: readonly string[]): string {
  return values.length === 0 ? 'empty' : values.join(', ');
}
