import { useMemo, useState } from 'preact/hooks';
import { api } from '../api.ts';
import { RunbookGraph } from '../components/graph.tsx';
import { ActionButton, Badge, JsonBlock, Loading, Section, useResource } from '../components/ui.tsx';
import { time } from '../format.ts';
import { useLive } from '../live.ts';
import { stateRuns } from '../runbook/runs.ts';
import { stateTree } from '../runbook/states.ts';
import type { AslDefinition, Execution, HistoryEvent } from '../types.ts';
import { elapsed, EXECUTION_TONE } from './executions.tsx';

interface Loaded {
  readonly execution: Execution;
  readonly definition: AslDefinition;
  readonly events: HistoryEvent[];
}

const REDRIVABLE = new Set(['FAILED', 'TIMED_OUT', 'ABORTED']);

export function ExecutionDetailPage(props: { id: string }) {
  const base = `/v1/executions/${encodeURIComponent(props.id)}`;
  const [selected, setSelected] = useState<string | null>(null);
  const data = useResource(async (): Promise<Loaded> => {
    const [execution, graph, history] = await Promise.all([
      api<Execution>('GET', base),
      api<{ definition: AslDefinition }>('GET', `${base}/definition`),
      api<{ events: HistoryEvent[] }>('GET', `${base}/history`),
    ]);
    return { execution, definition: graph.definition, events: history.events };
  }, [base]);
  useLive(['execution'], (id) => {
    if (id === '*' || id === props.id) data.reload();
  });
  const d = data.data;
  // An execution's definition never changes: live reloads bring a new history, and the graph keeps its layout.
  const definition = d?.definition;
  const tree = useMemo(() => definition && stateTree(definition), [props.id, definition !== undefined]);
  if (!d || !tree) return <Loading resource={data} />;
  const { execution } = d;
  const runs = stateRuns(tree, d.events, execution.status);
  const run = selected ? runs.get(selected) : undefined;
  const node = selected ? tree.byId.get(selected) : undefined;
  const incidentId = (execution.input as { incidentId?: unknown } | undefined)?.incidentId;

  return (
    <div class="page">
      <p class="crumbs">
        <a href="/executions">Executions</a> / {execution.name}
      </p>
      <h1>
        {execution.workflow} <Badge tone={EXECUTION_TONE[execution.status]}>{execution.status}</Badge>
      </h1>
      <div class="facts">
        <span>started {time(execution.startDate)}</span>
        <span>took {elapsed(execution)}</span>
        {execution.redriveCount > 0 && <span>redriven {execution.redriveCount}×</span>}
        {typeof incidentId === 'string' && (
          <a href={`/incidents/${encodeURIComponent(incidentId)}`}>incident {incidentId}</a>
        )}
        {(execution.error || execution.cause) && (
          <span class="error inline">{[execution.error, execution.cause].filter(Boolean).join(': ')}</span>
        )}
      </div>
      <div class="toolbar">
        <ActionButton
          label="Stop"
          role="operator"
          tone="danger"
          disabled={execution.status !== 'RUNNING'}
          disabledReason="only a running execution can be stopped"
          run={() =>
            api('POST', `${base}/stop`, { error: 'Dashboard.Stopped', cause: 'stopped from the dashboard' })
          }
          onDone={data.reload}
        />
        <ActionButton
          label="Redrive"
          role="operator"
          disabled={!REDRIVABLE.has(execution.status)}
          disabledReason="only FAILED, TIMED_OUT or ABORTED executions can be redriven"
          run={() => api('POST', `${base}/redrive`, {})}
          onDone={data.reload}
        />
      </div>
      <div class="split">
        <Section title="Runbook" id="h-graph">
          <RunbookGraph tree={tree} runs={runs} selected={selected} onSelect={setSelected} />
        </Section>
        <Section title={node ? `State: ${node.label}` : 'State'} id="h-state">
          {!selected && (
            <p class="muted">Select a state in the graph to see its input, output, error and events.</p>
          )}
          {selected && !run && <p class="muted">This state has not run.</p>}
          {run && (
            <div class="state-detail" data-selected-state={selected}>
              <p>
                Outcome: <strong>{run.outcome}</strong>
                {run.visits > 1 && (
                  <>
                    {' '}
                    · ran {run.visits} times:{' '}
                    {Object.entries(run.tally)
                      .map(([outcome, n]) => `${n} ${outcome}`)
                      .join(', ')}
                  </>
                )}
              </p>
              {run.error && (
                <p class="error">
                  {run.error.error}
                  {run.error.cause ? `: ${run.error.cause}` : ''}
                </p>
              )}
              <JsonBlock label="Input" value={run.input} open />
              <JsonBlock label="Output" value={run.output} open />
              <h3>History events</h3>
              <ol class="events">
                {run.events.map((e) => (
                  <li key={e.id}>
                    <code>#{e.id}</code> {e.type} <span class="muted small">{time(e.timestamp)}</span>
                  </li>
                ))}
              </ol>
            </div>
          )}
        </Section>
      </div>
      <JsonBlock label="Execution input" value={execution.input} />
      <JsonBlock label="Execution output" value={execution.output} />
      <JsonBlock label={`Full history (${d.events.length} events)`} value={d.events} />
    </div>
  );
}
