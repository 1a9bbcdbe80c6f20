import { useEffect, useState } from 'preact/hooks';
import { api, qs } from '../api.ts';
import { ActionButton, Badge, ErrorNote, Loading, Section, useResource } from '../components/ui.tsx';
import { ago, fromNow, percent, time } from '../format.ts';
import { useLive } from '../live.ts';
import type { AutomationStatus, BusStats, DeadLetter, ReplayProgress } from '../types.ts';

function RulesSection() {
  const stats = useResource(() => api<BusStats>('GET', '/v1/bus/stats'), []);
  useLive(['dlq', 'incident', 'execution'], () => stats.reload());
  return (
    <Section title="Rules and targets" id="h-rules">
      <Loading resource={stats} />
      {stats.data && (
        <table class="list" aria-label="Rules and targets">
          <thead>
            <tr>
              <th scope="col">Rule / target</th>
              <th scope="col">Matched</th>
              <th scope="col">Delivered</th>
              <th scope="col">Failed</th>
              <th scope="col">Retried</th>
              <th scope="col">Dead-lettered</th>
              <th scope="col">Queue</th>
              <th scope="col">DLQ</th>
            </tr>
          </thead>
          <tbody>
            {stats.data.rules.flatMap((r) => [
              <tr key={r.name} class="rule-row">
                <td data-label="Rule">
                  <strong>{r.name}</strong> {!r.enabled && <Badge tone="neutral">disabled</Badge>}
                  {r.description && <div class="muted small">{r.description}</div>}
                </td>
                <td data-label="Matched">{r.matched}</td>
                <td colSpan={6} class="hide-narrow" />
              </tr>,
              ...r.targets.map((t) => (
                <tr key={t.name} class="target-row">
                  <td data-label="Target">
                    ↳ {t.name} <span class="muted small">({t.kind})</span>
                  </td>
                  <td class="hide-narrow" />
                  <td data-label="Delivered">{t.delivered}</td>
                  <td data-label="Failed">{t.failed}</td>
                  <td data-label="Retried">{t.retried}</td>
                  <td data-label="Dead-lettered">{t.deadLettered}</td>
                  <td data-label="Queue">{t.queueDepth}</td>
                  <td data-label="DLQ">{t.dlqDepth > 0 ? <Badge tone="bad">{t.dlqDepth}</Badge> : 0}</td>
                </tr>
              )),
            ])}
          </tbody>
        </table>
      )}
      {stats.data && (
        <p class="muted small">
          Counters since the server started ({time(stats.data.countingSince)}, {ago(stats.data.countingSince)}
          ); queue and DLQ depths are current.
        </p>
      )}
    </Section>
  );
}

function DlqSection() {
  const dlq = useResource(
    () => api<{ items: DeadLetter[]; nextCursor?: string }>('GET', `/v1/dlq${qs({ limit: 100 })}`),
    [],
  );
  useLive(['dlq'], () => dlq.reload());
  const items = dlq.data?.items ?? [];
  return (
    <Section
      title={`Dead-letter queue (${items.length}${dlq.data?.nextCursor ? '+' : ''})`}
      id="h-dlq"
      actions={
        <ActionButton
          label="Redrive all"
          role="operator"
          tone="primary"
          disabled={items.length === 0}
          disabledReason="the DLQ is empty"
          run={() => api('POST', '/v1/dlq/redrive', {})}
          onDone={dlq.reload}
        />
      }
    >
      <Loading resource={dlq} />
      {dlq.data && items.length === 0 && <p class="muted">Empty: every delivery went through.</p>}
      {items.length > 0 && (
        <table class="list" aria-label="Dead letters">
          <thead>
            <tr>
              <th scope="col">Target</th>
              <th scope="col">Event</th>
              <th scope="col">Attempts</th>
              <th scope="col">Error</th>
              <th scope="col">Failed</th>
              <th scope="col">
                <span class="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {items.map((d) => (
              <tr key={d.id} data-dead-letter={d.id}>
                <td data-label="Target">{d.target}</td>
                <td data-label="Event">
                  {d.event ? `${d.event.envelope.source} · ${d.event.envelope['detail-type']}` : d.eventId}
                </td>
                <td data-label="Attempts">{d.attempts}</td>
                <td data-label="Error" class="wrap">
                  {d.error}
                </td>
                <td data-label="Failed" title={d.failedAt}>
                  {ago(d.failedAt)}
                </td>
                <td>
                  <ActionButton
                    label="Redrive"
                    role="operator"
                    run={() => api('POST', '/v1/dlq/redrive', { ids: [d.id] })}
                    onDone={dlq.reload}
                  />
                  <ActionButton
                    label="Delete"
                    role="operator"
                    tone="danger"
                    confirm={`Delete dead letter ${d.id} without delivering it to ${d.target}? Its event stays in the archive, where a replay of the rule can deliver it again.`}
                    run={() => api('POST', '/v1/dlq/delete', { ids: [d.id] })}
                    onDone={dlq.reload}
                  />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Section>
  );
}

function toLocalInput(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

function ReplaySection() {
  const [from, setFrom] = useState(() => toLocalInput(new Date(Date.now() - 3600_000)));
  const [to, setTo] = useState(() => toLocalInput(new Date(Date.now() + 60_000)));
  const [rule, setRule] = useState('');
  const [dryRun, setDryRun] = useState(true);
  const [replay, setReplay] = useState<ReplayProgress | null>(null);
  const [error, setError] = useState<Error | null>(null);

  useEffect(() => {
    if (!replay || replay.state !== 'running') return;
    const timer = window.setTimeout(() => {
      api<ReplayProgress>('GET', `/v1/replays/${encodeURIComponent(replay.id)}`).then(setReplay, setError);
    }, 500);
    return () => clearTimeout(timer);
  }, [replay]);

  const start = () =>
    api<ReplayProgress>('POST', '/v1/replays', {
      from: new Date(from).toISOString(),
      to: new Date(to).toISOString(),
      dryRun,
      ...(rule.trim() ? { rule: rule.trim() } : {}),
    }).then((p) => {
      setError(null);
      setReplay(p);
    });

  const progress =
    replay && replay.total > 0 ? replay.scanned / replay.total : replay?.state === 'completed' ? 1 : 0;
  return (
    <Section title="Replay archived events" id="h-replay">
      <form class="filters" onSubmit={(e) => e.preventDefault()}>
        <div class="field">
          <label for="r-from">From</label>
          <input
            id="r-from"
            type="datetime-local"
            value={from}
            onChange={(e) => setFrom((e.target as HTMLInputElement).value)}
          />
        </div>
        <div class="field">
          <label for="r-to">To</label>
          <input
            id="r-to"
            type="datetime-local"
            value={to}
            onChange={(e) => setTo((e.target as HTMLInputElement).value)}
          />
        </div>
        <div class="field">
          <label for="r-rule">Only rule (optional)</label>
          <input id="r-rule" value={rule} onInput={(e) => setRule((e.target as HTMLInputElement).value)} />
        </div>
        <div class="field check">
          <input
            id="r-dry"
            type="checkbox"
            checked={dryRun}
            onChange={(e) => setDryRun((e.target as HTMLInputElement).checked)}
          />
          <label for="r-dry">Dry run (count only)</label>
        </div>
        <ActionButton
          label="Start replay"
          role="operator"
          tone="primary"
          run={start}
          disabled={replay?.state === 'running'}
          disabledReason="a replay is running"
        />
      </form>
      <ErrorNote error={error} />
      {replay && (
        <div class="replay" data-replay-state={replay.state}>
          <label for="replay-progress">
            Replay {replay.id}: {replay.state} — scanned {replay.scanned} of {replay.total}, matched{' '}
            {replay.matched}, {replay.dryRun ? 'dry run' : `${replay.deliveries} deliveries`}
          </label>
          <progress id="replay-progress" max={1} value={progress} />
          {replay.error && <p class="error">{replay.error}</p>}
        </div>
      )}
    </Section>
  );
}

function AutomationSection() {
  const status = useResource(() => api<AutomationStatus>('GET', '/v1/automation'), []);
  const [reason, setReason] = useState('');
  const s = status.data;
  return (
    <Section
      title="Automation"
      id="h-automation"
      actions={
        <span class="inline-form">
          <label for="pause-reason" class="sr-only">
            Reason for pausing
          </label>
          <input
            id="pause-reason"
            placeholder="reason"
            value={reason}
            onInput={(e) => setReason((e.target as HTMLInputElement).value)}
          />
          <ActionButton
            label="Pause all automation"
            role="operator"
            tone="danger"
            run={() =>
              api('POST', '/v1/automation/pause', { reason: reason.trim() || 'paused from the dashboard' })
            }
            onDone={status.reload}
          />
        </span>
      }
    >
      <Loading resource={status} />
      {s && (
        <div class="automation">
          <p>
            Mode: <strong>{s.mode.mode}</strong>
            {s.shadow.global
              ? ' · shadow mode for every runbook'
              : s.shadow.runbooks.length > 0
                ? ` · shadow: ${s.shadow.runbooks.join(', ')}`
                : ''}
          </p>
          <p class="muted small">{s.mode.message}</p>
          <h3>Pauses</h3>
          {s.pauses.length === 0 ? (
            <p class="muted">None: automation runs.</p>
          ) : (
            <ul class="plain">
              {s.pauses.map((p) => (
                <li key={p.id} data-pause={p.id}>
                  <Badge tone="warn">paused</Badge>{' '}
                  {Object.entries(p.match)
                    .map(([k, v]) => `${k}=${v}`)
                    .join(', ') || 'everything'}{' '}
                  — {p.reason}{' '}
                  <span class="muted small">
                    by {p.createdBy ?? '–'}, until {p.until ? time(p.until) : 'resumed'}
                  </span>{' '}
                  <ActionButton
                    label="Resume"
                    role="admin"
                    run={() => api('POST', '/v1/automation/resume', { pauseId: p.id })}
                    onDone={status.reload}
                  />
                </li>
              ))}
            </ul>
          )}
          <h3>Circuit breakers</h3>
          {s.breakers.length === 0 ? (
            <p class="muted">No outcomes recorded yet.</p>
          ) : (
            <ul class="plain">
              {s.breakers.map((b) => (
                <li key={b.scope} data-breaker={b.scope}>
                  <Badge tone={b.state === 'open' ? 'bad' : 'good'}>{b.state}</Badge> {b.scope} · success{' '}
                  {percent(b.successRate)} of {b.outcomes}{' '}
                  {b.reason && <span class="muted small">({b.reason})</span>}{' '}
                  {b.state === 'open' && (
                    <ActionButton
                      label="Reset"
                      role="admin"
                      run={() => api('POST', '/v1/automation/resume', { scope: b.scope })}
                      onDone={status.reload}
                    />
                  )}
                </li>
              ))}
            </ul>
          )}
          <h3>Budgets</h3>
          {s.budgets.length === 0 ? (
            <p class="muted">No actions counted in the current window.</p>
          ) : (
            <ul class="plain">
              {s.budgets.map((b) => (
                <li key={b.target}>
                  {b.target}: {b.used} / {b.limit}{' '}
                  {b.nextSlotAt && <span class="muted small">next slot {fromNow(b.nextSlotAt)}</span>}
                </li>
              ))}
            </ul>
          )}
          {s.locks.length > 0 && (
            <>
              <h3>Locks held</h3>
              <ul class="plain">
                {s.locks.map((l) => (
                  <li key={l.target}>
                    {l.target} by {l.owner}, until {time(l.expiresAt)}
                  </li>
                ))}
              </ul>
            </>
          )}
        </div>
      )}
    </Section>
  );
}

export function OperationsPage() {
  return (
    <div class="page">
      <h1>Operations</h1>
      <RulesSection />
      <DlqSection />
      <ReplaySection />
      <AutomationSection />
    </div>
  );
}
