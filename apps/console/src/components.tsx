import { useState } from 'react';
import { loadPeople, personLabel, useOrg, type Person } from './org';
import { Field, useDebounced, useLoad } from './ui';

/**
 * Choose users of the organization: a search box and a checkbox per user found; the chosen ones stay listed.
 * `known` names ids chosen before (a group's members).
 */
export function MemberPicker({ value, onChange, known = {} }: { value: string[]; onChange: (ids: string[]) => void; known?: Record<string, string> }) {
  const { org } = useOrg();
  const [search, setSearch] = useState('');
  const query = useDebounced(search.trim());
  const found = useLoad(() => loadPeople(org.id, { type: 'user', search: query, limit: 20 }), [org.id, query]);
  const [names, setNames] = useState<Record<string, string>>(known);
  const toggle = (p: Person, on: boolean) => {
    setNames((n) => ({ ...n, [p.id]: personLabel(p) }));
    onChange(on ? [...value, p.id] : value.filter((id) => id !== p.id));
  };
  return (
    <fieldset>
      <legend>Members</legend>
      <Field label="Find people">{(id) => <input id={id} type="search" value={search} onChange={(e) => setSearch(e.target.value)} />}</Field>
      <div className="perm-list" role="group" aria-label="People found" tabIndex={0}>
        {(found.data ?? []).map((p) => (
          <label key={p.id}>
            <input type="checkbox" checked={value.includes(p.id)} onChange={(e) => toggle(p, e.target.checked)} />
            {personLabel(p)} {p.email && <span className="muted">{p.email}</span>}
          </label>
        ))}
        {found.data?.length === 0 && <p className="muted">No one matches.</p>}
      </div>
      <p className="muted">Chosen: {value.length === 0 ? 'no one' : value.map((id) => names[id] ?? known[id] ?? id).join(', ')}</p>
    </fieldset>
  );
}
