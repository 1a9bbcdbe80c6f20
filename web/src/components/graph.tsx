import { Graph, layout } from '@dagrejs/dagre';
import { useMemo } from 'preact/hooks';
import type { AslDefinition, HistoryEvent } from '../types.ts';

export type StateOutcome = 'succeeded' | 'failed' | 'running' | 'caught' | 'aborted' | 'not-run';

export interface StateRun {
  readonly name: string;
  readonly outcome: StateOutcome;
  readonly input?: unknown;
  readonly output?: unknown;
  readonly error?: { error?: string; cause?: string };
  readonly events: HistoryEvent[];
}

const FAILURE = /(Failed|TimedOut|Aborted)$/;

function details(event: HistoryEvent): Record<string, unknown> | undefined {
  const key = Object.keys(event).find((k) => k.endsWith('EventDetails'));
  return key ? (event[key] as Record<string, unknown>) : undefined;
}

function parse(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

/**
 * What happened in each state, from the execution history: events without a state name (TaskScheduled,
 * TaskFailed…) belong to the state whose `*StateEntered` event their `previousEventId` chain leads back to.
 */
export function stateRuns(history: readonly HistoryEvent[], executionStatus: string): Map<string, StateRun> {
  const byId = new Map(history.map((e) => [e.id, e]));
  const stateOf = new Map<number, string | undefined>();
  const resolve = (event: HistoryEvent): string | undefined => {
    if (stateOf.has(event.id)) return stateOf.get(event.id);
    let name: string | undefined;
    if (/State(Entered|Exited)$/.test(event.type)) name = details(event)?.['name'] as string | undefined;
    else {
      const previous = byId.get(event.previousEventId);
      name = previous && previous.id < event.id ? resolve(previous) : undefined;
    }
    stateOf.set(event.id, name);
    return name;
  };
  const runs = new Map<
    string,
    {
      name: string;
      events: HistoryEvent[];
      input?: unknown;
      output?: unknown;
      error?: { error?: string; cause?: string };
      last?: 'entered' | 'exited' | 'failed' | 'aborted';
    }
  >();
  for (const event of history) {
    const name = resolve(event);
    if (!name) continue;
    let run = runs.get(name);
    if (!run) runs.set(name, (run = { name, events: [] }));
    run.events.push(event);
    const d = details(event);
    if (event.type.endsWith('StateEntered')) {
      run.input = parse(d?.['input']);
      run.last = event.type === 'FailStateEntered' ? 'failed' : 'entered';
      if (event.type === 'FailStateEntered') run.error = { error: 'Fail state' };
    } else if (event.type.endsWith('StateExited')) {
      run.output = parse(d?.['output']);
      run.last = run.last === 'failed' ? 'failed' : 'exited';
    } else if (event.type.endsWith('Aborted')) {
      run.last = 'aborted';
    } else if (FAILURE.test(event.type)) {
      run.error = { error: d?.['error'] as string | undefined, cause: d?.['cause'] as string | undefined };
      run.last = 'failed';
    }
  }
  // A failure followed by another state entered was handled by a Catch (the engine writes no exit for it).
  const lastEntered = Math.max(0, ...history.filter((e) => e.type.endsWith('StateEntered')).map((e) => e.id));
  const out = new Map<string, StateRun>();
  for (const run of runs.values()) {
    let outcome: StateOutcome;
    if (run.last === 'exited')
      outcome = 'succeeded'; // after retries, if it had errors
    else if (run.last === 'failed')
      outcome =
        run.events[0]?.type !== 'FailStateEntered' && run.events[run.events.length - 1]!.id < lastEntered
          ? 'caught'
          : 'failed';
    else if (run.last === 'aborted') outcome = 'aborted';
    else if (executionStatus === 'RUNNING') outcome = 'running';
    else if (executionStatus === 'ABORTED') outcome = 'aborted';
    else outcome = executionStatus === 'SUCCEEDED' ? 'succeeded' : 'failed';
    out.set(run.name, { ...run, outcome });
  }
  return out;
}

interface Edge {
  readonly from: string;
  readonly to: string;
  readonly kind: 'next' | 'choice' | 'catch';
}

function edgesOf(definition: AslDefinition): Edge[] {
  const edges: Edge[] = [];
  for (const [name, state] of Object.entries(definition.States)) {
    if (state.Next) edges.push({ from: name, to: state.Next, kind: 'next' });
    for (const choice of state.Choices ?? []) edges.push({ from: name, to: choice.Next, kind: 'choice' });
    if (state.Default) edges.push({ from: name, to: state.Default, kind: 'choice' });
    for (const c of state.Catch ?? []) edges.push({ from: name, to: c.Next, kind: 'catch' });
  }
  const seen = new Set<string>();
  return edges.filter(
    (e) => definition.States[e.to] && !seen.has(`${e.from}>${e.to}`) && seen.add(`${e.from}>${e.to}`),
  );
}

const LABEL_CHAR = 7.2;

/** The runbook as a graph laid out by dagre; each state coloured by what happened to it; click to select. */
export function RunbookGraph(props: {
  definition: AslDefinition;
  runs: Map<string, StateRun>;
  selected: string | null;
  onSelect: (state: string) => void;
}) {
  const { definition } = props;
  const laid = useMemo(() => {
    const g = new Graph();
    g.setGraph({ rankdir: 'TB', nodesep: 24, ranksep: 36, marginx: 8, marginy: 8 });
    g.setDefaultEdgeLabel(() => ({}));
    for (const [name, state] of Object.entries(definition.States)) {
      const text = Math.max(name.length, state.Type.length + 2);
      g.setNode(name, { width: Math.max(110, text * LABEL_CHAR + 28), height: 46 });
    }
    const edges = edgesOf(definition);
    for (const e of edges) g.setEdge(e.from, e.to);
    layout(g);
    const graph = g.graph();
    return {
      width: Math.ceil(graph.width ?? 200),
      height: Math.ceil(graph.height ?? 100),
      nodes: Object.keys(definition.States).map((name) => ({ name, ...g.node(name) })),
      edges: edges.map((e) => ({ ...e, points: g.edge(e.from, e.to)?.points ?? [] })),
    };
  }, [definition]);

  return (
    <div class="graph-wrap">
      <svg
        class="graph"
        viewBox={`0 0 ${laid.width} ${laid.height}`}
        width={laid.width}
        height={laid.height}
        role="group"
        aria-label="Runbook states"
      >
        <defs>
          <marker
            id="arrow"
            viewBox="0 0 10 10"
            refX="9"
            refY="5"
            markerWidth="7"
            markerHeight="7"
            orient="auto-start-reverse"
          >
            <path d="M 0 0 L 10 5 L 0 10 z" class="arrowhead" />
          </marker>
        </defs>
        {laid.edges.map((e) => (
          <polyline
            key={`${e.from}>${e.to}`}
            class={`edge edge-${e.kind}`}
            points={e.points.map((p: { x: number; y: number }) => `${p.x},${p.y}`).join(' ')}
            marker-end="url(#arrow)"
          />
        ))}
        {laid.nodes.map((n) => {
          const run = props.runs.get(n.name);
          const outcome = run?.outcome ?? 'not-run';
          const state = definition.States[n.name]!;
          const select = () => props.onSelect(n.name);
          return (
            <g
              key={n.name}
              class={`node node-${outcome}${props.selected === n.name ? ' node-selected' : ''}`}
              transform={`translate(${n.x - n.width / 2},${n.y - n.height / 2})`}
              role="button"
              tabIndex={0}
              aria-pressed={props.selected === n.name}
              aria-label={`${n.name}: ${state.Type} state, ${outcome}`}
              data-state={n.name}
              data-outcome={outcome}
              onClick={select}
              onKeyDown={(e) => (e.key === 'Enter' || e.key === ' ') && (e.preventDefault(), select())}
            >
              <rect width={n.width} height={n.height} rx="8" />
              <text x={n.width / 2} y="19" text-anchor="middle" class="node-name">
                {n.name}
              </text>
              <text x={n.width / 2} y="35" text-anchor="middle" class="node-type">
                {state.Type} · {outcome}
              </text>
            </g>
          );
        })}
      </svg>
      <ul class="legend" aria-label="Legend">
        {(['succeeded', 'running', 'failed', 'caught', 'aborted', 'not-run'] as const).map((o) => (
          <li key={o}>
            <span class={`swatch node-${o}`} aria-hidden="true" /> {o}
          </li>
        ))}
      </ul>
    </div>
  );
}
