import { useState, type FormEvent } from 'react';
import { ApiError, api, ok } from '../api/client';
import { session } from '../session';
import { ErrorText, Field, useAction } from '../ui';

/** Sign in with a username or email and a password (a temporary one leads to "Choose a new password"), or with a personal API token. */
export function SignIn() {
  const [login, setLogin] = useState('');
  const [password, setPassword] = useState('');
  const [mustChange, setMustChange] = useState(false);
  const [token, setToken] = useState('');

  const signIn = useAction(async (e: FormEvent) => {
    e.preventDefault();
    try {
      const answer = await ok(api.POST('/api/v1/auth/login', { body: { login, password } }));
      session.set({ token: answer.token, kind: 'session', user: answer.user });
    } catch (err) {
      if (err instanceof ApiError && err.code === 'PASSWORD_CHANGE_REQUIRED') return setMustChange(true);
      throw err;
    }
  });

  const useToken = useAction(async (e: FormEvent) => {
    e.preventDefault();
    const value = token.trim();
    const me = await ok(api.GET('/api/v1/me', { headers: { Authorization: `Bearer ${value}` } }));
    session.set({ token: value, kind: 'api-token', user: me });
  });

  if (mustChange) return <ChooseNewPassword login={login} current={password} onCancel={() => setMustChange(false)} />;

  return (
    <main className="narrow">
      <h1>Sign in</h1>
      {session.expired() && <p className="notice">Your session has ended. Sign in again.</p>}
      <form onSubmit={signIn.run}>
        <Field label="Username or email">
          {(id) => <input id={id} autoComplete="username" required value={login} onChange={(e) => setLogin(e.target.value)} />}
        </Field>
        <Field label="Password">
          {(id) => <input id={id} type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />}
        </Field>
        <button type="submit" disabled={signIn.pending}>
          Sign in
        </button>
        <ErrorText error={signIn.error} />
      </form>
      <h2>Or use a personal API token</h2>
      <form onSubmit={useToken.run}>
        <Field label="Personal API token" hint="Kept in this tab's memory only: reloading the page signs you out.">
          {(id) => <input id={id} type="password" autoComplete="off" required value={token} onChange={(e) => setToken(e.target.value)} />}
        </Field>
        <button type="submit" disabled={useToken.pending}>
          Sign in with token
        </button>
        <ErrorText error={useToken.error} />
      </form>
    </main>
  );
}

function ChooseNewPassword({ login, current, onCancel }: { login: string; current: string; onCancel: () => void }) {
  const [next, setNext] = useState('');
  const [again, setAgain] = useState('');
  const change = useAction(async (e: FormEvent) => {
    e.preventDefault();
    if (next !== again) throw new Error('The two passwords differ.');
    const { token } = await ok(api.POST('/api/v1/auth/password', { body: { login, currentPassword: current, newPassword: next } }));
    const user = await ok(api.GET('/api/v1/me', { headers: { Authorization: `Bearer ${token}` } }));
    session.set({ token, kind: 'session', user });
  });
  return (
    <main className="narrow">
      <h1>Choose a new password</h1>
      <p>Your password is temporary: choose your own to continue (at least 10 characters, not your username or email).</p>
      <form onSubmit={change.run}>
        <Field label="New password">
          {(id) => <input id={id} type="password" autoComplete="new-password" required minLength={10} value={next} onChange={(e) => setNext(e.target.value)} />}
        </Field>
        <Field label="New password again">
          {(id) => <input id={id} type="password" autoComplete="new-password" required value={again} onChange={(e) => setAgain(e.target.value)} />}
        </Field>
        <button type="submit" disabled={change.pending}>
          Set password
        </button>{' '}
        <button type="button" className="secondary" onClick={onCancel}>
          Cancel
        </button>
        <ErrorText error={change.error} />
      </form>
    </main>
  );
}
