import { useMemo } from 'preact/hooks';
import { layoutRunbook, type Box, type GraphLayout } from '../runbook/layout.ts';
import type { StateOutcome, StateRun } from '../runbook/runs.ts';
import type { StateList, StateNode, StateTree } from '../runbook/states.ts';

interface Drawing {
  readonly layout: GraphLayout;
  readonly runs: ReadonlyMap<string, StateRun>;
  readonly selected: string | null;
  readonly onSelect: (stateId: string) => void;
}

function StateButton(props: { node: StateNode; box: Box; drawing: Drawing }) {
  const { node, box, drawing } = props;
  const run = drawing.runs.get(node.id);
  const outcome: StateOutcome = run?.outcome ?? 'not-run';
  const selected = drawing.selected === node.id;
  // What the node shows is all of its name, so the name matches what a sighted person reads (WCAG 2.5.3).
  const detail = `${node.state.Type} · ${outcome}${run && run.visits > 1 ? ` ×${run.visits}` : ''}`;
  const select = () => drawing.onSelect(node.id);
  return (
    <g
      class={`node node-${outcome}${selected ? ' node-selected' : ''}`}
      transform={`translate(${box.x},${box.y})`}
      role="button"
      // Lowercase: Preact sets SVG attributes as written, and an SVG `tabIndex` attribute does nothing.
      tabindex={0}
      aria-pressed={selected}
      aria-label={`${node.name}: ${detail}`}
      data-state={node.name}
      data-path={node.id}
      data-outcome={outcome}
      onClick={select}
      onKeyDown={(e) => (e.key === 'Enter' || e.key === ' ') && (e.preventDefault(), select())}
    >
      <rect width={box.width} height={box.height} rx="8" />
      {/* One text with a space between its lines, so its visible text reads as two words, not one. */}
      <text text-anchor="middle">
        <tspan x={box.width / 2} y="19" class="node-name">
          {node.name}
        </tspan>{' '}
        <tspan x={box.width / 2} y="35" class="node-type">
          {detail}
        </tspan>
      </text>
    </g>
  );
}

/** The states of a list as buttons; a Parallel's branches and a Map's processor as labelled groups. */
function StateButtons(props: { list: StateList; drawing: Drawing }) {
  return (
    <>
      {props.list.states.map((node) => (
        <g key={node.id}>
          <StateButton node={node} box={props.drawing.layout.states.get(node.id)!} drawing={props.drawing} />
          {node.lists.map((list) => (
            <g key={list.id} role="group" aria-label={list.label} data-list={list.id}>
              <StateButtons list={list} drawing={props.drawing} />
            </g>
          ))}
        </g>
      ))}
    </>
  );
}

/**
 * The runbook as a graph laid out by dagre, nested states inside their Parallel or Map; each state coloured
 * by what happened to it; click (or Enter) to select it.
 */
export function RunbookGraph(props: {
  tree: StateTree;
  runs: ReadonlyMap<string, StateRun>;
  selected: string | null;
  onSelect: (stateId: string) => void;
}) {
  const layout = useMemo(() => layoutRunbook(props.tree), [props.tree]);
  const drawing: Drawing = { layout, runs: props.runs, selected: props.selected, onSelect: props.onSelect };
  return (
    <div class="graph-wrap">
      {/* Scrolls sideways when the graph is wider than the screen; tabbing through the states scrolls it. */}
      <div class="graph-scroll">
        <svg
          class="graph"
          viewBox={`0 0 ${layout.width} ${layout.height}`}
          width={layout.width}
          height={layout.height}
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
          <g aria-hidden="true">
            {layout.frames.map((f) => (
              <rect
                key={`${f.kind}:${f.id}`}
                class={`frame frame-${f.kind}`}
                data-frame={f.id}
                x={f.box.x}
                y={f.box.y}
                width={f.box.width}
                height={f.box.height}
                rx="10"
              />
            ))}
            {layout.edges.map((e) => (
              <polyline
                key={e.key}
                class={`edge edge-${e.kind}`}
                points={e.points.map((p) => `${p.x},${p.y}`).join(' ')}
                marker-end={e.kind === 'join' ? undefined : 'url(#arrow)'}
              />
            ))}
            {[...layout.joins].map(([id, b]) => (
              <rect key={id} class="join" x={b.x} y={b.y} width={b.width} height={b.height} rx="3" />
            ))}
          </g>
          <StateButtons list={props.tree.root} drawing={drawing} />
        </svg>
      </div>
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
