import 'uplot/dist/uPlot.min.css';
import './styles.css';
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, configureApi, type Session } from './api.ts';
import { SessionContext, useResource } from './components/ui.tsx';
import { startLive, stopLive, useLiveStatus } from './live.ts';
import { AnalyticsPage } from './pages/analytics.tsx';
import { ApprovalsPage } from './pages/approvals.tsx';
import { ExecutionDetailPage } from './pages/execution-detail.tsx';
import { EventsPage } from './pages/events.tsx';
import { ExecutionsPage } from './pages/executions.tsx';
import { IncidentDetailPage } from './pages/incident-detail.tsx';
import { IncidentsPage } from './pages/incidents.tsx';
import { OperationsPage } from './pages/operations.tsx';
import { SignInPage } from './pages/signin.tsx';
import { interceptLinks, navigate, useLocation } from './router.ts';
import type { AutomationStatus } from './types.ts';

const NAV = [
  ['/incidents', 'Incidents'],
  ['/executions', 'Executions'],
  ['/approvals', 'Approvals'],
  ['/events', 'Events'],
  ['/operations', 'Operations'],
  ['/analytics', 'Analytics'],
] as const;

function Page(props: { path: string; query: URLSearchParams }) {
  const { path } = props;
  const detail = /^\/(incidents|executions)\/([^/]+)$/.exec(path);
  if (detail?.[1] === 'incidents') return <IncidentDetailPage id={decodeURIComponent(detail[2]!)} />;
  if (detail?.[1] === 'executions') return <ExecutionDetailPage id={decodeURIComponent(detail[2]!)} />;
  switch (path) {
    case '/executions':
      return <ExecutionsPage />;
    case '/approvals':
      return <ApprovalsPage />;
    case '/events':
      return <EventsPage />;
    case '/operations':
      return <OperationsPage />;
    case '/analytics':
      return <AnalyticsPage />;
    default:
      return <IncidentsPage query={props.query} />;
  }
}

function ModeBadge(props: { session: Session; onSignOut: () => void }) {
  const { session } = props;
  if (session.mode === 'open')
    return (
      <span
        class="mode mode-open"
        title="This server listens on loopback only and has no API tokens configured"
      >
        Open mode (loopback, no sign-in) · admin
      </span>
    );
  if (!session.principal) return null;
  return (
    <span class="mode">
      {session.principal.name} · {session.principal.role}{' '}
      <button type="button" class="btn btn-plain btn-small" onClick={props.onSignOut}>
        Sign out
      </button>
    </span>
  );
}

/**
 * On every page while automation does not act for real: shadow mode records what each runbook would do and
 * sends nothing, and an on-call engineer must not mistake its "remediations" for changes to the cluster.
 */
function ShadowBanner() {
  const status = useResource(() => api<AutomationStatus>('GET', '/v1/automation'), []);
  const mode = status.data?.mode;
  if (mode?.mode !== 'shadow') return null;
  return (
    <p class="shadow-banner" role="status">
      <strong>Shadow mode:</strong> {mode.message.replace(/^shadow mode:\s*/i, '')}. Runbooks run and show
      what they would change; nothing reaches a cluster. <a href="/operations">Automation</a>
    </p>
  );
}

function App() {
  const { path, query } = useLocation();
  const [session, setSession] = useState<Session | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  const live = useLiveStatus();

  const load = () =>
    api<Session>('GET', '/v1/session').then(
      (s) => {
        setSession(s);
        setFailure(null);
      },
      (err: Error) => setFailure(err.message),
    );
  useEffect(() => void load(), []);

  const signedIn = !!session?.principal;
  useEffect(() => {
    if (!session) return;
    configureApi(session, () => {
      setSession({ mode: session.mode, principal: null, csrfToken: null });
    });
    if (signedIn) startLive();
    else stopLive();
  }, [session, signedIn]);

  useEffect(() => {
    if (session && !signedIn && path !== '/signin')
      navigate(`/signin?next=${encodeURIComponent(path)}`, true);
    if (session && signedIn && (path === '/signin' || path === '/'))
      navigate(query.get('next') ?? '/incidents', true);
  }, [session, signedIn, path]);

  const signOut = () => {
    void api('DELETE', '/v1/session').finally(() =>
      setSession({ mode: 'token', principal: null, csrfToken: null }),
    );
  };

  if (failure) return <p class="error">Cannot reach Rebound: {failure}</p>;
  if (!session) return <p class="muted pad">Loading…</p>;
  return (
    <SessionContext.Provider value={session}>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <a class="brand" href="/incidents">
          Rebound
        </a>
        {signedIn && (
          <nav aria-label="Main">
            {NAV.map(([href, label]) => (
              <a key={href} href={href} aria-current={path.startsWith(href) ? 'page' : undefined}>
                {label}
              </a>
            ))}
          </nav>
        )}
        <div class="top-right">
          {signedIn && (
            <span class={`live ${live ? 'live-on' : 'live-off'}`} role="status">
              {live ? 'Live' : 'Reconnecting…'}
            </span>
          )}
          <ModeBadge session={session} onSignOut={signOut} />
        </div>
      </header>
      {signedIn && <ShadowBanner />}
      <main id="main" tabIndex={-1}>
        {signedIn ? <Page path={path} query={query} /> : <SignInPage onSignedIn={(s) => setSession(s)} />}
      </main>
    </SessionContext.Provider>
  );
}

interceptLinks();
render(<App />, document.getElementById('app')!);
