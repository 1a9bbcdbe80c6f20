import { createContext, type ComponentChildren } from 'preact';
import { useCallback, useContext, useEffect, useRef, useState } from 'preact/hooks';
import { allowed, type Role, type Session } from '../api.ts';

export const SessionContext = createContext<Session | null>(null);

export function useSession(): Session | null {
  return useContext(SessionContext);
}

export interface Resource<T> {
  readonly data: T | undefined;
  readonly error: Error | undefined;
  readonly loading: boolean;
  reload(): void;
}

/** Loads data for a page; `reload` re-runs the loader (live updates call it) and keeps the old data meanwhile. */
export function useResource<T>(load: () => Promise<T>, deps: readonly unknown[]): Resource<T> {
  const [state, setState] = useState<{ data?: T; error?: Error; loading: boolean }>({ loading: true });
  const generation = useRef(0);
  const run = useCallback(() => {
    const mine = ++generation.current;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => mine === generation.current && setState({ data, loading: false }),
      (error: unknown) =>
        mine === generation.current &&
        setState((s) => ({
          ...s,
          error: error instanceof Error ? error : new Error(String(error)),
          loading: false,
        })),
    );
  }, deps);
  useEffect(run, [run]);
  return { data: state.data, error: state.error, loading: state.loading, reload: run };
}

export type Tone = 'neutral' | 'good' | 'bad' | 'warn' | 'info' | 'busy';

export function Badge(props: { tone: Tone; children: ComponentChildren; title?: string }) {
  return (
    <span class={`badge badge-${props.tone}`} title={props.title}>
      {props.children}
    </span>
  );
}

export function ErrorNote(props: { error: Error | undefined | null }) {
  if (!props.error) return null;
  return (
    <p class="error" role="alert">
      {props.error.message}
    </p>
  );
}

export function Loading(props: { resource: Resource<unknown> }) {
  if (props.resource.data === undefined && props.resource.loading) return <p class="muted">Loading…</p>;
  return <ErrorNote error={props.resource.error} />;
}

/**
 * A button that runs an API call, shows that it is busy and reports a failure next to itself. Without the role,
 * it is disabled and says which role it needs (the API refuses anyway).
 */
export function ActionButton(props: {
  label: string;
  role: Role;
  run: () => Promise<unknown>;
  tone?: 'primary' | 'danger' | 'plain';
  disabled?: boolean;
  disabledReason?: string;
  /** Asked (OK / Cancel) before an action that cannot be undone; Cancel runs nothing. */
  confirm?: string;
  onDone?: () => void;
}) {
  const session = useSession();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error | null>(null);
  const permitted = allowed(session, props.role);
  const disabled = busy || !permitted || !!props.disabled;
  const title = !permitted
    ? `needs the ${props.role} role`
    : props.disabled
      ? props.disabledReason
      : undefined;
  const click = () => {
    if (props.confirm && !window.confirm(props.confirm)) return;
    setBusy(true);
    setError(null);
    props.run().then(
      () => {
        setBusy(false);
        props.onDone?.();
      },
      (err: unknown) => {
        setBusy(false);
        setError(err instanceof Error ? err : new Error(String(err)));
      },
    );
  };
  return (
    <span class="action">
      <button
        type="button"
        class={`btn btn-${props.tone ?? 'plain'}`}
        disabled={disabled}
        title={title}
        onClick={click}
      >
        {busy ? `${props.label}…` : props.label}
      </button>
      {error && (
        <span class="error inline" role="alert">
          {error.message}
        </span>
      )}
    </span>
  );
}

export function Section(props: {
  title: string;
  children: ComponentChildren;
  actions?: ComponentChildren;
  id?: string;
}) {
  return (
    <section class="card" aria-labelledby={props.id}>
      <header class="card-head">
        <h2 id={props.id}>{props.title}</h2>
        {props.actions && <div class="card-actions">{props.actions}</div>}
      </header>
      {props.children}
    </section>
  );
}

/**
 * A collapsible JSON block (details/summary: no script needed to open it). The block scrolls when the JSON is
 * long or wide, so it takes keyboard focus: arrow keys scroll it (WCAG 2.1.1).
 */
export function JsonBlock(props: { label: string; value: unknown; open?: boolean }) {
  if (props.value === undefined) return null;
  return (
    <details class="json" open={props.open}>
      <summary>{props.label}</summary>
      <pre tabIndex={0}>{JSON.stringify(props.value, null, 2)}</pre>
    </details>
  );
}
