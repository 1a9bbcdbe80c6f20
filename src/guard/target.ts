import { globMatcher } from '../glob.ts';
import type { TargetRef } from '../actions/types.ts';

/** The lock / budget / idempotency key of a target: `cluster/namespace/Kind/name` (`-` for no namespace). */
export function targetKey(target: TargetRef): string {
  return `${target.cluster}/${target.namespace ?? '-'}/${target.kind}/${target.name}`;
}

/** The breaker scope of a target: `cluster/namespace`, or just `cluster` for cluster-scoped objects. */
export function scopeOf(target: TargetRef, scopeBy: 'namespace' | 'cluster'): string {
  if (scopeBy === 'cluster' || target.namespace === undefined) return target.cluster;
  return `${target.cluster}/${target.namespace}`;
}

/** The target fields a scope string names: `prod` → {cluster}, `prod/payments` → {cluster, namespace}. */
export function parseScope(scope: string): { cluster: string; namespace?: string } {
  const slash = scope.indexOf('/');
  if (slash < 0) return { cluster: scope };
  return { cluster: scope.slice(0, slash), namespace: scope.slice(slash + 1) };
}

/** Glob match where `*` stands for any run of characters (and nothing else is special). */
export function globMatch(pattern: string, value: string): boolean {
  return globMatcher(pattern.split('*'))(value);
}
