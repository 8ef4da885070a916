import { useCallback, useEffect, useId, useRef, useState, type ReactNode } from 'react';
import { describeError } from './api/client';

/** A refusal or failure, in words, next to the action that caused it. */
export function ErrorText({ error }: { error: unknown }) {
  if (!error) return null;
  return (
    <p role="alert" className="error">
      {describeError(error)}
    </p>
  );
}

/** Runs an action, keeping its pending state and its error for the form that started it. */
export function useAction<A extends unknown[], R>(fn: (...args: A) => Promise<R>) {
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<unknown>();
  const run = useCallback(
    async (...args: A): Promise<R | undefined> => {
      setPending(true);
      setError(undefined);
      try {
        return await fn(...args);
      } catch (err) {
        setError(err);
        return undefined;
      } finally {
        setPending(false);
      }
    },
    [fn],
  );
  return { run, pending, error, setError };
}

/** Loads data when `deps` change; `reload()` loads again. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]) {
  const [state, setState] = useState<{ data?: T; error?: unknown; loading: boolean }>({ loading: true });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true, error: undefined }));
    load().then(
      (data) => live && setState({ data, loading: false }),
      (error: unknown) => live && setState({ error, loading: false }),
    );
    return () => {
      live = false;
    };
  }, [...deps, tick]);
  return { ...state, reload: () => setTick((t) => t + 1) };
}

/** A modal dialog (the native <dialog>: focus stays inside, Escape closes). */
export function Dialog({ title, onClose, children, wide }: { title: string; onClose: () => void; children: ReactNode; wide?: boolean }) {
  const ref = useRef<HTMLDialogElement>(null);
  const id = useId();
  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
  }, []);
  return (
    <dialog ref={ref} aria-labelledby={id} className={wide ? 'wide' : undefined} onClose={onClose} onCancel={onClose}>
      <div className="dialog-head">
        <h2 id={id}>{title}</h2>
        <button type="button" className="link" onClick={onClose} aria-label="Close">
          ×
        </button>
      </div>
      {children}
    </dialog>
  );
}

/**
 * "Delete <what> <name>?": the delete button (named `Delete <what>`) runs `remove`, then closes; a refusal is
 * shown in words under the buttons.
 */
export function ConfirmDelete({
  what,
  name,
  remove,
  onClose,
  children,
}: {
  what: string;
  name: string;
  remove: () => Promise<unknown>;
  onClose: () => void;
  children?: ReactNode;
}) {
  const action = useAction(async () => {
    await remove();
    onClose();
  });
  return (
    <Dialog title={`Delete ${what} ${name}`} onClose={onClose}>
      {children}
      <div className="actions">
        <button type="button" className="danger" onClick={() => action.run()} disabled={action.pending}>
          Delete {what}
        </button>
        <button type="button" className="secondary" onClick={onClose}>
          Cancel
        </button>
      </div>
      <ErrorText error={action.error} />
    </Dialog>
  );
}

/** A secret shown once (a temporary password, a token) with a copy button. */
export function ShownOnce({ label, value }: { label: string; value: string }) {
  const [copied, setCopied] = useState(false);
  const id = useId();
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value);
      setCopied(true);
    } catch {
      (document.getElementById(id) as HTMLInputElement | null)?.select();
    }
  };
  return (
    <div className="shown-once">
      <label htmlFor={id}>{label}</label>
      <input id={id} readOnly value={value} className="secret" onFocus={(e) => e.currentTarget.select()} />
      <button type="button" onClick={copy} aria-label={`Copy ${label}`}>
        {copied ? 'Copied' : 'Copy'}
      </button>
    </div>
  );
}

export function Field({ label, children, hint }: { label: string; children: (id: string) => ReactNode; hint?: string }) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {children(id)}
      {hint && <p className="hint">{hint}</p>}
    </div>
  );
}

export const formatTime = (iso: string | null | undefined) => (iso ? new Date(iso).toLocaleString() : '—');

/** A cursor-paginated list: the first page when `deps` change, then `loadMore()` appends the next. */
export function usePaged<T>(fetchPage: (cursor?: string) => Promise<{ items: T[]; nextCursor: string | null }>, deps: unknown[]) {
  const [state, setState] = useState<{ items: T[]; cursor: string | null; loading: boolean; error?: unknown }>({ items: [], cursor: null, loading: true });
  const [tick, setTick] = useState(0);
  const generation = useRef(0);
  useEffect(() => {
    const mine = ++generation.current;
    setState({ items: [], cursor: null, loading: true });
    fetchPage().then(
      (page) => mine === generation.current && setState({ items: page.items, cursor: page.nextCursor, loading: false }),
      (error: unknown) => mine === generation.current && setState({ items: [], cursor: null, loading: false, error }),
    );
  }, [...deps, tick]);
  const loadMore = useCallback(() => {
    if (state.loading || !state.cursor) return;
    const mine = generation.current;
    setState((s) => ({ ...s, loading: true }));
    fetchPage(state.cursor).then(
      (page) => mine === generation.current && setState((s) => ({ items: [...s.items, ...page.items], cursor: page.nextCursor, loading: false })),
      (error: unknown) => mine === generation.current && setState((s) => ({ ...s, loading: false, error })),
    );
  }, [state.loading, state.cursor, fetchPage]);
  return { ...state, hasMore: Boolean(state.cursor), loadMore, reload: () => setTick((t) => t + 1) };
}

/** "Load more", also pressed by scrolling to it (IntersectionObserver) when `auto`. */
export function LoadMore({ onMore, loading, auto }: { onMore: () => void; loading: boolean; auto?: boolean }) {
  const ref = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (!auto || !ref.current) return;
    const observer = new IntersectionObserver((entries) => entries.some((e) => e.isIntersecting) && onMore(), { rootMargin: '200px' });
    observer.observe(ref.current);
    return () => observer.disconnect();
  }, [auto, onMore]);
  return (
    <button ref={ref} type="button" className="secondary load-more" onClick={onMore} disabled={loading}>
      {loading ? 'Loading…' : 'Load more'}
    </button>
  );
}

/** A search box whose value settles after typing stops (`delay` ms). */
export function useDebounced<T>(value: T, delay = 250): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setSettled(value), delay);
    return () => clearTimeout(t);
  }, [value, delay]);
  return settled;
}
