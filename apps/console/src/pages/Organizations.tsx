import { useState, type FormEvent } from 'react';
import { api, ok } from '../api/client';
import type { Organization } from '../org';
import { Link, navigate } from '../router';
import { ErrorText, Field, useAction } from '../ui';

/** The organizations the viewer belongs to; create one (the creator becomes its Owner); switch to one. */
export function Organizations({ orgs, reload }: { orgs: Organization[]; reload: () => void }) {
  const [name, setName] = useState('');
  const [slug, setSlug] = useState('');
  const create = useAction(async (e: FormEvent) => {
    e.preventDefault();
    const org = await ok(api.POST('/api/v1/organizations', { body: { name, ...(slug ? { slug } : {}) } }));
    reload();
    navigate(`/o/${org.slug}`);
  });
  return (
    <>
      <h1>Organizations</h1>
      {orgs.length === 0 ? (
        <p>You do not belong to any organization yet.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Slug</th>
              <th scope="col">
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {orgs.map((o) => (
              <tr key={o.id}>
                <td>{o.name}</td>
                <td>{o.slug}</td>
                <td>
                  <Link to={`/o/${o.slug}`} aria-label={`Switch to ${o.name}`}>
                    Switch
                  </Link>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <section aria-labelledby="new-org-h">
        <h2 id="new-org-h">New organization</h2>
        <form onSubmit={create.run}>
          <Field label="Name">{(id) => <input id={id} required value={name} onChange={(e) => setName(e.target.value)} />}</Field>
          <Field label="Slug (optional)" hint="Lower-case letters, digits and dashes; made from the name when empty.">
            {(id) => <input id={id} value={slug} onChange={(e) => setSlug(e.target.value)} />}
          </Field>
          <button type="submit" disabled={create.pending}>
            Create organization
          </button>
          <ErrorText error={create.error} />
        </form>
      </section>
    </>
  );
}
