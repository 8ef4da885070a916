import { useCallback, useState, type FormEvent } from 'react';
import { api, ok, ApiError, type Schemas } from '../api/client';
import { loadPeople, personLabel, useOrg } from '../org';
import { session } from '../session';
import { ErrorText, Field, LoadMore, formatTime, useAction, useLoad, usePaged } from '../ui';

type Entry = Schemas['AuditEntryResponse'];
const RESOURCES = ['User', 'Organization', 'Group', 'Role', 'Project', 'Member'] as const;
const OPERATIONS = ['Added', 'Removed', 'Modified'] as const;
interface Filters {
  from?: string;
  to?: string;
  actorId?: string;
  resource?: (typeof RESOURCES)[number];
  operation?: (typeof OPERATIONS)[number];
}

/** `datetime-local` value (local time) → ISO 8601, or undefined when empty. */
const iso = (local: string) => (local ? new Date(local).toISOString() : undefined);

/** Audit logs: newest first, filters, "Load more" with the cursor, each entry's details, Export CSV with the current filters. */
export function AuditLogs() {
  const { org, can } = useOrg();
  const [form, setForm] = useState({ from: '', to: '', actorId: '', resource: '', operation: '' });
  const [filters, setFilters] = useState<Filters>({});
  const fetchPage = useCallback(
    (cursor?: string) => ok(api.GET('/api/v1/organizations/{org}/audit-logs', { params: { path: { org: org.id }, query: { ...filters, limit: 50, cursor } } })),
    [org.id, filters],
  );
  const entries = usePaged(fetchPage, [fetchPage]);
  const users = useLoad(() => (can('organization.people.view') ? loadPeople(org.id, { type: 'user', limit: 500 }) : Promise.resolve([])), [org.id]);
  const [open, setOpen] = useState<string>();

  const apply = (e: FormEvent) => {
    e.preventDefault();
    setFilters({
      ...(iso(form.from) ? { from: iso(form.from) } : {}),
      ...(iso(form.to) ? { to: iso(form.to) } : {}),
      ...(form.actorId ? { actorId: form.actorId } : {}),
      ...(form.resource ? { resource: form.resource as Filters['resource'] } : {}),
      ...(form.operation ? { operation: form.operation as Filters['operation'] } : {}),
    });
  };

  const exportCsv = useAction(async () => {
    const query = new URLSearchParams(Object.entries(filters).filter(([, v]) => v) as Array<[string, string]>);
    const res = await fetch(`/api/v1/organizations/${encodeURIComponent(org.id)}/audit-logs/export?${query}`, {
      headers: { Authorization: `Bearer ${session.get()?.token ?? ''}`, 'X-Client': 'web' },
    });
    if (!res.ok) throw new ApiError(res.status, await res.json().catch(() => ({})));
    const url = URL.createObjectURL(await res.blob());
    const a = document.createElement('a');
    a.href = url;
    a.download = `audit-log-${org.slug}.csv`;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  });

  const set = (key: keyof typeof form) => (e: { target: { value: string } }) => setForm({ ...form, [key]: e.target.value });
  return (
    <>
      <div className="page-head">
        <h1>Audit logs</h1>
        <button type="button" onClick={() => exportCsv.run()} disabled={exportCsv.pending}>
          Export CSV
        </button>
      </div>
      <ErrorText error={exportCsv.error} />
      <form className="toolbar" onSubmit={apply} aria-label="Filters">
        <Field label="From">{(id) => <input id={id} type="datetime-local" value={form.from} onChange={set('from')} />}</Field>
        <Field label="To">{(id) => <input id={id} type="datetime-local" value={form.to} onChange={set('to')} />}</Field>
        <Field label="Actor">
          {(id) => (
            <select id={id} value={form.actorId} onChange={set('actorId')}>
              <option value="">Anyone</option>
              {(users.data ?? []).map((u) => (
                <option key={u.id} value={u.id}>
                  {personLabel(u)}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Resource">
          {(id) => (
            <select id={id} value={form.resource} onChange={set('resource')}>
              <option value="">Any</option>
              {RESOURCES.map((r) => (
                <option key={r}>{r}</option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Operation">
          {(id) => (
            <select id={id} value={form.operation} onChange={set('operation')}>
              <option value="">Any</option>
              {OPERATIONS.map((o) => (
                <option key={o}>{o}</option>
              ))}
            </select>
          )}
        </Field>
        <button type="submit">Apply filters</button>
      </form>
      <ErrorText error={entries.error} />
      <table>
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Who</th>
            <th scope="col">What</th>
            <th scope="col">Description</th>
            <th scope="col">Details</th>
          </tr>
        </thead>
        <tbody>
          {entries.items.map((e) => (
            <EntryRow key={e.id} entry={e} open={open === e.id} onToggle={() => setOpen(open === e.id ? undefined : e.id)} />
          ))}
        </tbody>
      </table>
      {!entries.loading && entries.items.length === 0 && !entries.error && <p>No entries match.</p>}
      {entries.hasMore ? <LoadMore onMore={entries.loadMore} loading={entries.loading} /> : entries.loading && <p aria-busy="true">Loading…</p>}
    </>
  );
}

function EntryRow({ entry: e, open, onToggle }: { entry: Entry; open: boolean; onToggle: () => void }) {
  return (
    <>
      <tr data-entry={e.id}>
        <td>{formatTime(e.timestamp)}</td>
        <td>{e.actor.username ?? e.actor.id}</td>
        <td>
          {e.resource} {e.operation}
          {e.resourceName && <div className="muted">{e.resourceName}</div>}
        </td>
        <td>{e.description}</td>
        <td>
          <button type="button" className="secondary" aria-expanded={open} aria-controls={`details-${e.id}`} onClick={onToggle}>
            {open ? 'Hide' : 'Details'}
          </button>
        </td>
      </tr>
      {open && (
        <tr id={`details-${e.id}`} className="details">
          <td colSpan={5}>
            <dl className="facts">
              <dt>IP</dt>
              <dd>{e.ip ?? '—'}</dd>
              <dt>Medium</dt>
              <dd>{e.medium}</dd>
              <dt>Request id</dt>
              <dd>{e.requestId ?? '—'}</dd>
              <dt>Resource id</dt>
              <dd>{e.resourceId}</dd>
              <dt>Metadata</dt>
              <dd>
                <pre>{JSON.stringify(e.metadata, null, 2)}</pre>
              </dd>
            </dl>
          </td>
        </tr>
      )}
    </>
  );
}
