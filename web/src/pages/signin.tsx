import { useState } from 'preact/hooks';
import { api, type Session } from '../api.ts';

/** Sign-in with an API token (from `rebound tokens create`); the server answers with a session cookie. */
export function SignInPage(props: { onSignedIn: (session: Session) => void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    api<Session>('POST', '/v1/session', { token: token.trim() }).then(
      (session) => {
        setBusy(false);
        setToken('');
        props.onSignedIn(session);
      },
      (err: Error) => {
        setBusy(false);
        setError(err.message);
      },
    );
  };
  return (
    <div class="signin card">
      <h1>Sign in</h1>
      <p class="muted">
        This server requires an API token. Ask an admin for one (
        <code>rebound tokens create --role viewer</code>); it is exchanged for a session cookie and never
        stored by the browser.
      </p>
      <form onSubmit={submit}>
        <label for="token">API token</label>
        <input
          id="token"
          name="token"
          type="password"
          autoComplete="off"
          required
          value={token}
          onInput={(e) => setToken((e.target as HTMLInputElement).value)}
        />
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <button class="btn btn-primary" type="submit" disabled={busy || token.trim() === ''}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </div>
  );
}
