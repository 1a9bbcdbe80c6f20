import type { AslDefinition, AslState } from '../types.ts';

/**
 * One state of a runbook, nested ones included. Its id says where it is: a top-level state's id is its name,
 * a nested one's is its list's id, `/`, its name (names are unique in a valid definition; ids are unique
 * whatever the definition).
 */
export interface StateNode {
  readonly id: string;
  readonly name: string;
  readonly state: AslState;
  /** Where it is, for people: `Gather › branch 2 › ReadMetrics`. */
  readonly label: string;
  /** The state lists it runs: a Parallel's branches, a Map's item processor; none for other states. */
  readonly lists: readonly StateList[];
}

/** A state list: the runbook itself (id ''), a Parallel branch (`Gather/1`) or a Map's processor (`Each/items`). */
export interface StateList {
  readonly id: string;
  readonly label: string;
  readonly definition: AslDefinition;
  readonly states: readonly StateNode[];
}

export interface StateTree {
  readonly root: StateList;
  readonly byId: ReadonlyMap<string, StateNode>;
}

/** The id of the state `name` in the list `listId`. */
export function stateId(listId: string, name: string): string {
  return listId === '' ? name : `${listId}/${name}`;
}

/** Every state of a definition, nested in the lists that hold them. */
export function stateTree(definition: AslDefinition): StateTree {
  const byId = new Map<string, StateNode>();
  const list = (id: string, label: string, def: AslDefinition): StateList => ({
    id,
    label,
    definition: def,
    states: Object.entries(def.States).map(([name, state]) => {
      const nodeId = stateId(id, name);
      const nodeLabel = label === '' ? name : `${label} › ${name}`;
      const processor = state.ItemProcessor ?? state.Iterator;
      const lists =
        state.Type === 'Parallel'
          ? (state.Branches ?? []).map((b, i) => list(`${nodeId}/${i}`, `${nodeLabel} › branch ${i + 1}`, b))
          : state.Type === 'Map' && processor
            ? [list(`${nodeId}/items`, `${nodeLabel} › each item`, processor)]
            : [];
      const node: StateNode = { id: nodeId, name, state, label: nodeLabel, lists };
      byId.set(nodeId, node);
      return node;
    }),
  });
  return { root: list('', '', definition), byId };
}

/** The states of a list and of every list nested in it, each container before what it holds. */
export function eachState(list: StateList): StateNode[] {
  return list.states.flatMap((node) => [node, ...node.lists.flatMap(eachState)]);
}

export interface Transition {
  readonly from: string;
  readonly to: string;
  readonly kind: 'next' | 'choice' | 'catch';
}

/** The transitions between the states of one list, by state id (each pair once). */
export function transitions(list: StateList): Transition[] {
  const out: Transition[] = [];
  const seen = new Set<string>();
  const add = (from: string, to: string, kind: Transition['kind']) => {
    const key = `${from}>${to}`;
    if (!list.definition.States[to] || seen.has(key)) return;
    seen.add(key);
    out.push({ from: stateId(list.id, from), to: stateId(list.id, to), kind });
  };
  for (const [name, state] of Object.entries(list.definition.States)) {
    if (state.Next) add(name, state.Next, 'next');
    for (const choice of state.Choices ?? []) add(name, choice.Next, 'choice');
    if (state.Default) add(name, state.Default, 'choice');
    for (const c of state.Catch ?? []) add(name, c.Next, 'catch');
  }
  return out;
}

/** Whether a state can end its list (the runbook, or its branch or item). */
export function endsList(state: AslState): boolean {
  return state.End === true || state.Type === 'Succeed' || state.Type === 'Fail';
}
