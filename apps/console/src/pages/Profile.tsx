import { useState, type FormEvent } from 'react';
import { api, ok } from '../api/client';
import { session } from '../session';
import { Dialog, ErrorText, Field, ShownOnce, formatTime, useAction, useLoad } from '../ui';

/** Profile settings: screen name and username, email (confirmed), the personal API token. */
export function Profile() {
  const user = session.get()!.user;
  const [name, setName] = useState(user.name);
  const [username, setUsername] = useState(user.username);
  const [saved, setSaved] = useState(false);
  const save = useAction(async (e: FormEvent) => {
    e.preventDefault();
    setSaved(false);
    const body = { ...(name !== user.name ? { name } : {}), ...(username !== user.username ? { username } : {}) };
    const profile = await ok(api.PATCH('/api/v1/me', { body }));
    session.setUser(profile);
    setSaved(true);
  });

  return (
    <>
      <h1>Profile settings</h1>
      <section aria-labelledby="profile-h">
        <h2 id="profile-h">Profile</h2>
        <form onSubmit={save.run}>
          <Field label="Screen name">{(id) => <input id={id} value={name} maxLength={100} onChange={(e) => setName(e.target.value)} />}</Field>
          <Field label="Username" hint="2 to 39 letters, digits, -, _ or ., starting with a letter or digit.">
            {(id) => <input id={id} value={username} required onChange={(e) => setUsername(e.target.value)} />}
          </Field>
          <button type="submit" disabled={save.pending}>
            Save changes
          </button>
          {saved && <p className="ok">Saved.</p>}
          <ErrorText error={save.error} />
        </form>
      </section>
      <EmailSection />
      <TokenSection />
    </>
  );
}

function EmailSection() {
  const user = session.get()!.user;
  const [email, setEmail] = useState(user.email);
  const [confirming, setConfirming] = useState(false);
  const [done, setDone] = useState(false);
  const update = useAction(async () => {
    const profile = await ok(api.PUT('/api/v1/me/email', { body: { email } }));
    session.setUser(profile);
    setConfirming(false);
    setDone(true);
  });
  return (
    <section aria-labelledby="email-h">
      <h2 id="email-h">Email</h2>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          setDone(false);
          setConfirming(true);
        }}
      >
        <Field label="Email">{(id) => <input id={id} type="email" required value={email} onChange={(e) => setEmail(e.target.value)} />}</Field>
        <button type="submit" disabled={email === user.email}>
          Update email
        </button>
        {done && <p className="ok">Your email is now {user.email}.</p>}
      </form>
      {confirming && (
        <Dialog title="Change your email?" onClose={() => setConfirming(false)}>
          <p>
            Your email changes from <strong>{user.email}</strong> to <strong>{email}</strong>.
          </p>
          <p className="warning">Integrations that use your email (for example a connected Git provider) may need reconnecting.</p>
          <div className="actions">
            <button type="button" onClick={() => update.run()} disabled={update.pending}>
              Confirm email change
            </button>
            <button type="button" className="secondary" onClick={() => setConfirming(false)}>
              Cancel
            </button>
          </div>
          <ErrorText error={update.error} />
        </Dialog>
      )}
    </section>
  );
}

function TokenSection() {
  const meta = useLoad(() => ok(api.GET('/api/v1/me/token')), []);
  const [confirming, setConfirming] = useState(false);
  const [token, setToken] = useState<string>();
  const reset = useAction(async () => {
    const answer = await ok(api.POST('/api/v1/me/token'));
    const s = session.get();
    // signed in with the token just replaced: carry on with the new one
    if (s?.kind === 'api-token') session.set({ ...s, token: answer.token });
    setToken(answer.token);
    setConfirming(false);
    meta.reload();
  });
  return (
    <section aria-labelledby="token-h">
      <h2 id="token-h">Personal API token</h2>
      <dl className="facts">
        <dt>Created</dt>
        <dd>{formatTime(meta.data?.createdAt)}</dd>
        <dt>Last used</dt>
        <dd>{formatTime(meta.data?.lastUsedAt)}</dd>
      </dl>
      <ErrorText error={meta.error} />
      {token && (
        <div className="once" role="status">
          <p>This is your new API token. It is shown only once: copy it now. The old token no longer works.</p>
          <ShownOnce label="New API token" value={token} />
        </div>
      )}
      <button type="button" onClick={() => setConfirming(true)}>
        Reset API Token
      </button>
      {confirming && (
        <Dialog title="Reset your API token?" onClose={() => setConfirming(false)}>
          <p className="warning">The current token stops working at once; scripts and integrations that use it must be given the new one.</p>
          <div className="actions">
            <button type="button" onClick={() => reset.run()} disabled={reset.pending}>
              Reset API Token
            </button>
            <button type="button" className="secondary" onClick={() => setConfirming(false)}>
              Cancel
            </button>
          </div>
          <ErrorText error={reset.error} />
        </Dialog>
      )}
    </section>
  );
}
