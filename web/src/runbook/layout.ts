import { Graph, layout } from '@dagrejs/dagre';
import {
  eachState,
  endsList,
  transitions,
  type StateList,
  type StateNode,
  type StateTree,
} from './states.ts';

export interface Box {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

export interface LaidEdge {
  readonly key: string;
  readonly kind: 'next' | 'choice' | 'catch' | 'fork' | 'join';
  readonly points: readonly { x: number; y: number }[];
}

/** The outline of a Parallel or Map with all it holds (by state id), or of one of its lists (by list id). */
export interface Frame {
  readonly kind: 'container' | 'list';
  readonly id: string;
  readonly box: Box;
}

/** Where everything goes; boxes by their top-left corner. */
export interface GraphLayout {
  readonly width: number;
  readonly height: number;
  /** Every state, nested ones included, by state id. */
  readonly states: ReadonlyMap<string, Box>;
  /** Outer frames before the frames inside them, the order to draw them in. */
  readonly frames: readonly Frame[];
  /** Where each Parallel or Map joins its lists again before its Next, by state id. */
  readonly joins: ReadonlyMap<string, Box>;
  readonly edges: readonly LaidEdge[];
}

const LABEL_CHAR = 7.2;
const JOIN = { width: 28, height: 6 };
// Cluster ids share dagre's namespace with state ids: suffixes no state id can end with.
const containerKey = (id: string) => `${id}\u0000container`;
const listKey = (id: string) => `${id}\u0000list`;
const joinKey = (id: string) => `${id}\u0000join`;

/** A node wide enough for its name and its `Type · outcome ×visits` line. */
function size(node: StateNode) {
  // The second line is smaller: `Parallel · succeeded ×12` takes about 0.85 of a name character each.
  const text = Math.max(node.name.length, (node.state.Type.length + 16) * 0.85);
  return { width: Math.max(110, text * LABEL_CHAR + 28), height: 46 };
}

/**
 * Lays the runbook out with dagre as a compound graph: a Parallel or Map is a cluster holding its own node
 * (on top), one cluster per branch or for its item processor, and a join node (at the bottom). dagre cannot
 * route an edge to a cluster, so edges into a Parallel or Map end at its node and edges out of it leave
 * from its join, and fork/join edges link it to its lists' first and last states.
 */
export function layoutRunbook(tree: StateTree): GraphLayout {
  const g = new Graph({ compound: true });
  g.setGraph({ rankdir: 'TB', nodesep: 24, ranksep: 36, marginx: 8, marginy: 8 });
  g.setDefaultEdgeLabel(() => ({}));
  const edges: { v: string; w: string; key: string; kind: LaidEdge['kind'] | 'hidden' }[] = [];
  const edge = (v: string, w: string, kind: LaidEdge['kind'] | 'hidden', weight = 1) => {
    if (g.hasEdge(v, w)) return;
    g.setEdge(v, w, { weight: kind === 'hidden' ? 0 : weight });
    edges.push({ v, w, key: `${v}>${w}`, kind });
  };
  const exit = (node: StateNode) => (node.lists.length > 0 ? joinKey(node.id) : node.id);

  const addList = (list: StateList, parent: string | undefined) => {
    for (const node of list.states) {
      g.setNode(node.id, size(node));
      if (node.lists.length === 0) {
        if (parent) g.setParent(node.id, parent);
        continue;
      }
      const cluster = containerKey(node.id);
      g.setNode(cluster, {});
      if (parent) g.setParent(cluster, parent);
      g.setParent(node.id, cluster);
      g.setNode(joinKey(node.id), { ...JOIN });
      g.setParent(joinKey(node.id), cluster);
      for (const child of node.lists) {
        g.setNode(listKey(child.id), {});
        g.setParent(listKey(child.id), cluster);
        addList(child, listKey(child.id));
        const start = child.states.find((s) => s.name === child.definition.StartAt);
        // Heavier than the join edges, so a short branch starts at the top rather than ends at the bottom.
        if (start) edge(node.id, start.id, 'fork', 2);
        // A Fail state ends its branch in failure: it joins nothing, but stays above the join.
        for (const s of child.states)
          if (endsList(s.state)) edge(exit(s), joinKey(node.id), s.state.Type === 'Fail' ? 'hidden' : 'join');
      }
    }
    const byId = new Map(list.states.map((s) => [s.id, s]));
    for (const t of transitions(list)) edge(exit(byId.get(t.from)!), t.to, t.kind);
  };
  addList(tree.root, undefined);
  layout(g);

  const box = (key: string): Box => {
    const n = g.node(key) as { x: number; y: number; width: number; height: number };
    return { x: n.x - n.width / 2, y: n.y - n.height / 2, width: n.width, height: n.height };
  };
  const states = new Map<string, Box>();
  const frames: Frame[] = [];
  const joins = new Map<string, Box>();
  for (const node of eachState(tree.root)) {
    states.set(node.id, box(node.id));
    if (node.lists.length === 0) continue;
    frames.push({ kind: 'container', id: node.id, box: box(containerKey(node.id)) });
    for (const list of node.lists) frames.push({ kind: 'list', id: list.id, box: box(listKey(list.id)) });
    joins.set(node.id, box(joinKey(node.id)));
  }
  const graph = g.graph();
  return {
    width: Math.ceil(graph.width ?? 200),
    height: Math.ceil(graph.height ?? 100),
    states,
    frames,
    joins,
    edges: edges.flatMap((e) =>
      e.kind === 'hidden'
        ? []
        : [
            {
              key: e.key,
              kind: e.kind,
              points: (g.edge(e.v, e.w) as { points?: LaidEdge['points'] })?.points ?? [],
            },
          ],
    ),
  };
}
