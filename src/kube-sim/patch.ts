/**
 * The three patch types the apiserver accepts for built-in resources
 * (https://kubernetes.io/docs/tasks/manage-kubernetes-objects/update-api-object-kubectl-patch/):
 * JSON patch (RFC 6902), JSON merge patch (RFC 7386) and strategic merge patch.
 */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

export class PatchError extends Error {}

export const JSON_PATCH = 'application/json-patch+json';
export const MERGE_PATCH = 'application/merge-patch+json';
export const STRATEGIC_MERGE_PATCH = 'application/strategic-merge-patch+json';

const isObject = (v: unknown): v is JsonObject => v !== null && typeof v === 'object' && !Array.isArray(v);
const clone = <T>(v: T): T => structuredClone(v);

/** RFC 7386: objects merge recursively, `null` deletes, anything else (arrays included) replaces. */
export function mergePatch(target: Json, patch: Json): Json {
  if (!isObject(patch)) return clone(patch);
  const out: JsonObject = isObject(target) ? clone(target) : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = mergePatch(out[key] ?? null, value);
  }
  return out;
}

/** RFC 6902 operations applied in order to a copy; any failure rejects the whole patch. */
export function jsonPatch(target: Json, operations: Json): Json {
  if (!Array.isArray(operations)) throw new PatchError('a JSON patch must be an array of operations');
  let doc = clone(target);
  for (const raw of operations) {
    if (!isObject(raw) || typeof raw['op'] !== 'string' || typeof raw['path'] !== 'string') {
      throw new PatchError(`invalid JSON patch operation ${JSON.stringify(raw)}`);
    }
    const { op, path } = raw as { op: string; path: string };
    switch (op) {
      case 'add':
        doc = setAt(doc, path, need(raw, 'value'), 'add');
        break;
      case 'replace':
        doc = setAt(doc, path, need(raw, 'value'), 'replace');
        break;
      case 'remove':
        doc = removeAt(doc, path);
        break;
      case 'move': {
        const value = getAt(doc, fromOf(raw));
        doc = setAt(removeAt(doc, fromOf(raw)), path, value, 'add');
        break;
      }
      case 'copy':
        doc = setAt(doc, path, clone(getAt(doc, fromOf(raw))), 'add');
        break;
      case 'test':
        if (JSON.stringify(getAt(doc, path)) !== JSON.stringify(need(raw, 'value'))) {
          throw new PatchError(`testing value ${path} failed`);
        }
        break;
      default:
        throw new PatchError(`unexpected kind of JSON patch operation: ${op}`);
    }
  }
  return doc;
}

function need(op: JsonObject, key: string): Json {
  if (!(key in op)) throw new PatchError(`operation ${JSON.stringify(op)} is missing "${key}"`);
  return clone(op[key]!);
}

function fromOf(op: JsonObject): string {
  if (typeof op['from'] !== 'string')
    throw new PatchError(`operation ${JSON.stringify(op)} is missing "from"`);
  return op['from'];
}

function pointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw new PatchError(`JSON pointer ${path} must start with "/"`);
  return path
    .slice(1)
    .split('/')
    .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function getAt(doc: Json, path: string): Json {
  let cur: Json = doc;
  for (const token of pointer(path)) {
    if (Array.isArray(cur) && /^\d+$/.test(token) && Number(token) < cur.length) cur = cur[Number(token)]!;
    else if (isObject(cur) && token in cur) cur = cur[token]!;
    else throw new PatchError(`path ${path} does not exist`);
  }
  return cur;
}

function parentOf(doc: Json, path: string): { parent: Json; last: string } {
  const tokens = pointer(path);
  if (tokens.length === 0) throw new PatchError('cannot address the document root here');
  const last = tokens.pop()!;
  const parentPath = tokens.map((t) => '/' + t.replace(/~/g, '~0').replace(/\//g, '~1')).join('');
  return { parent: getAt(doc, parentPath), last };
}

function setAt(doc: Json, path: string, value: Json, mode: 'add' | 'replace'): Json {
  if (path === '') return value;
  const { parent, last } = parentOf(doc, path);
  if (Array.isArray(parent)) {
    const index = last === '-' ? parent.length : Number(last);
    const max = mode === 'add' ? parent.length : parent.length - 1;
    if (!/^\d+$|^-$/.test(last) || index > max)
      throw new PatchError(`index ${last} out of bounds in ${path}`);
    if (mode === 'add') parent.splice(index, 0, value);
    else parent[index] = value;
  } else if (isObject(parent)) {
    if (mode === 'replace' && !(last in parent))
      throw new PatchError(`replace operation does not apply: doc is missing key: ${path}`);
    parent[last] = value;
  } else throw new PatchError(`cannot set ${path}: parent is not a container`);
  return doc;
}

function removeAt(doc: Json, path: string): Json {
  const { parent, last } = parentOf(doc, path);
  if (Array.isArray(parent) && /^\d+$/.test(last) && Number(last) < parent.length)
    parent.splice(Number(last), 1);
  else if (isObject(parent) && last in parent) delete parent[last];
  else throw new PatchError(`remove operation does not apply: doc is missing path: ${path}`);
  return doc;
}

/**
 * Merge keys of the list fields Rebound's resources use, from the `patchMergeKey` tags of k8s.io/api
 * (PodSpec.containers/initContainers/volumes by name, Container.env by name, ports by containerPort,
 * volumeMounts by mountPath, conditions by type, ownerReferences by uid). Lists not named here are replaced.
 */
const MERGE_KEYS: Readonly<Record<string, string>> = {
  containers: 'name',
  initContainers: 'name',
  ephemeralContainers: 'name',
  volumes: 'name',
  env: 'name',
  ports: 'containerPort',
  volumeMounts: 'mountPath',
  conditions: 'type',
  ownerReferences: 'uid',
  imagePullSecrets: 'name',
};
/** Lists of scalars with `patchStrategy:"merge"` (union on patch). */
const MERGED_SCALAR_LISTS = new Set(['finalizers']);

/** Strategic merge: like merge patch, but keyed lists merge element-wise and `$patch` directives apply. */
export function strategicMergePatch(target: Json, patch: Json): Json {
  if (!isObject(patch)) return clone(patch);
  if (patch['$patch'] === 'replace') {
    const rest = clone(patch);
    delete rest['$patch'];
    return rest;
  }
  if (patch['$patch'] === 'delete') return null;
  const out: JsonObject = isObject(target) ? clone(target) : {};
  for (const [key, value] of Object.entries(patch)) {
    if (key.startsWith('$')) continue; // $retainKeys / $setElementOrder: ordering hints, no effect on content here
    if (value === null) delete out[key];
    else if (Array.isArray(value)) out[key] = mergeList(key, out[key], value);
    else if (isObject(value)) {
      const merged = strategicMergePatch(out[key] ?? null, value);
      if (merged === null) delete out[key];
      else out[key] = merged;
    } else out[key] = value;
  }
  return out;
}

function mergeList(field: string, current: Json | undefined, patch: Json[]): Json[] {
  const existing = Array.isArray(current) ? clone(current) : [];
  if (MERGED_SCALAR_LISTS.has(field))
    return [...new Set([...existing, ...patch].map((v) => JSON.stringify(v)))].map(
      (s) => JSON.parse(s) as Json,
    );
  const key = MERGE_KEYS[field];
  if (!key) return clone(patch);
  const out = existing;
  for (const item of patch) {
    if (!isObject(item) || !(key in item))
      throw new PatchError(`map: ${JSON.stringify(item)} does not contain declared merge key: ${key}`);
    const index = out.findIndex((e) => isObject(e) && JSON.stringify(e[key]) === JSON.stringify(item[key]));
    if (item['$patch'] === 'delete') {
      if (index >= 0) out.splice(index, 1);
      continue;
    }
    if (index >= 0) out[index] = strategicMergePatch(out[index]!, item)!;
    else out.push(strategicMergePatch(null, item)!);
  }
  return out;
}
