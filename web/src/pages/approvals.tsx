import { api, qs } from '../api.ts';
import { ActionButton, Badge, Loading, Section, useResource } from '../components/ui.tsx';
import { ago, time } from '../format.ts';
import { useLive } from '../live.ts';
import type { Approval } from '../types.ts';

const SNOOZE_SECONDS = 600;

function decide(id: string, decision: 'remediate' | 'skip' | 'snooze') {
  return api('POST', `/v1/approvals/${encodeURIComponent(id)}/decision`, {
    decision,
    via: 'dashboard',
    ...(decision === 'snooze' ? { snoozeSeconds: SNOOZE_SECONDS } : {}),
  });
}

/** Pending approvals with the same three choices as Slack; recent decisions below. */
export function ApprovalsPage() {
  const pending = useResource(
    () => api<{ items: Approval[] }>('GET', `/v1/approvals${qs({ status: 'pending' })}`),
    [],
  );
  const decided = useResource(
    () => api<{ items: Approval[] }>('GET', `/v1/approvals${qs({ status: 'decided', limit: 20 })}`),
    [],
  );
  const reload = () => {
    pending.reload();
    decided.reload();
  };
  useLive(['approval'], reload);
  return (
    <div class="page">
      <h1>Approvals</h1>
      <Section title={`Waiting for a decision (${pending.data?.items.length ?? '…'})`} id="h-pending">
        <Loading resource={pending} />
        {pending.data?.items.length === 0 && <p class="muted">Nothing is waiting for a human.</p>}
        <ul class="cards">
          {pending.data?.items.map((a) => (
            <li key={a.id} class="approval" data-approval={a.id}>
              <p class="approval-summary">{a.summary}</p>
              <p class="muted small">
                runbook <strong>{a.runbook}</strong> ·{' '}
                {a.incidentId ? (
                  <a href={`/incidents/${encodeURIComponent(a.incidentId)}`}>incident {a.incidentId}</a>
                ) : (
                  'no incident'
                )}{' '}
                · <a href={`/executions/${encodeURIComponent(a.executionId)}`}>execution</a> · asked{' '}
                {ago(a.createdAt)} · expires {time(a.expiresAt)}
              </p>
              <div class="toolbar">
                <ActionButton
                  label="Remediate now"
                  tone="primary"
                  role="operator"
                  run={() => decide(a.id, 'remediate')}
                  onDone={reload}
                />
                <ActionButton label="Skip" role="operator" run={() => decide(a.id, 'skip')} onDone={reload} />
                <ActionButton
                  label={`Snooze ${SNOOZE_SECONDS / 60} min`}
                  role="operator"
                  run={() => decide(a.id, 'snooze')}
                  onDone={reload}
                />
              </div>
            </li>
          ))}
        </ul>
      </Section>
      <Section title="Recently decided" id="h-decided">
        <Loading resource={decided} />
        {decided.data?.items.length === 0 && <p class="muted">No decisions yet.</p>}
        <ul class="plain">
          {decided.data?.items.map((a) => (
            <li key={a.id}>
              <Badge tone={a.decision === 'remediate' ? 'good' : 'neutral'}>{a.decision ?? a.status}</Badge>{' '}
              {a.summary}{' '}
              <span class="muted small">
                by {a.decidedBy ?? '–'} via {a.via ?? '–'} {ago(a.decidedAt)}
              </span>
            </li>
          ))}
        </ul>
      </Section>
    </div>
  );
}
