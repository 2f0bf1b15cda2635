import { useEffect, useState } from 'preact/hooks';
import { api, importFile, type AwEvent, type Bucket } from '../api';
import { formatAgo, formatDateTime, formatDuration } from '../format';
import { navigate, usePath } from '../router';
import { loadBuckets, useStore } from '../store';
import { Empty, ErrorBox, Loading } from './common';

const PAGE = 50;

export function BucketsView() {
  const path = usePath();
  const id = path.startsWith('/buckets/') ? decodeURIComponent(path.slice('/buckets/'.length)) : null;
  return id ? <BucketEvents id={id} /> : <BucketList />;
}

function BucketList() {
  const s = useStore();
  const [counts, setCounts] = useState<Record<string, number>>({});
  const [error, setError] = useState<string | null>(null);
  const [confirm, setConfirm] = useState<string | null>(null);
  const [progress, setProgress] = useState<number | null>(null);
  const [notice, setNotice] = useState<string | null>(null);

  useEffect(() => {
    void loadBuckets();
  }, []);
  useEffect(() => {
    if (!s.buckets) return;
    Promise.all(s.buckets.map(async (b) => [b.id, await api.eventCount(b.id)] as const))
      .then((c) => setCounts(Object.fromEntries(c)))
      .catch((e: Error) => setError(e.message));
  }, [s.buckets]);

  const remove = async (id: string) => {
    setConfirm(null);
    try {
      await api.deleteBucket(id);
      setNotice(`Deleted ${id}.`);
      await loadBuckets();
    } catch (e) {
      setError((e as Error).message);
    }
  };
  const upload = async (file: File | undefined) => {
    if (!file) return;
    setError(null);
    setNotice(null);
    setProgress(0);
    try {
      await importFile(file, setProgress);
      setNotice(`Imported ${file.name}.`);
      await loadBuckets();
    } catch (e) {
      setError(`Import failed: ${(e as Error).message}`);
    } finally {
      setProgress(null);
    }
  };

  if (!s.buckets) return <Loading />;
  return (
    <div class="view">
      <div class="toolbar">
        <h2>Buckets</h2>
        <a class="button" href={api.exportUrl()} download="sundial-export.json">
          Export all
        </a>
        <label class="button">
          Import…
          <input type="file" accept=".json,application/json" class="visually-hidden" data-testid="import-file" onChange={(e) => void upload(e.currentTarget.files?.[0])} />
        </label>
        {progress !== null && (
          <span class="progress">
            <progress value={progress} max={1} aria-label="Import progress" /> {Math.round(progress * 100)}%{progress >= 1 ? ' — storing…' : ''}
          </span>
        )}
      </div>
      <ErrorBox error={error ?? s.bucketsError} />
      {notice && (
        <div class="notice" role="status">
          {notice}
        </div>
      )}
      {s.buckets.length === 0 ? (
        <Empty>No buckets yet. Start a watcher (see Status), or import an ActivityWatch export with “Import…”.</Empty>
      ) : (
        <div class="card table-wrap">
          <table data-testid="bucket-table">
            <thead>
              <tr>
                <th>Bucket</th>
                <th>Type</th>
                <th>Host</th>
                <th>Last updated</th>
                <th class="num">Events</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {s.buckets.map((b) => (
                <BucketRow key={b.id} b={b} count={counts[b.id]} confirming={confirm === b.id} onDelete={() => setConfirm(b.id)} onConfirm={() => void remove(b.id)} onCancel={() => setConfirm(null)} />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

function BucketRow(props: { b: Bucket; count: number | undefined; confirming: boolean; onDelete(): void; onConfirm(): void; onCancel(): void }) {
  const b = props.b;
  const last = b.last_updated ?? b.metadata?.end ?? null;
  return (
    <tr data-bucket={b.id}>
      <td>
        <a
          href={`/buckets/${encodeURIComponent(b.id)}`}
          onClick={(e) => {
            e.preventDefault();
            navigate(`/buckets/${encodeURIComponent(b.id)}`);
          }}
        >
          {b.id}
        </a>
      </td>
      <td>{b.type}</td>
      <td>{b.hostname}</td>
      <td title={last ? formatDateTime(last) : ''}>{last ? formatAgo(last) : '—'}</td>
      <td class="num">{props.count?.toLocaleString() ?? '…'}</td>
      <td class="actions">
        <a class="button small" href={api.exportUrl(b.id)} download={`${b.id}.json`}>
          Export
        </a>
        {props.confirming ? (
          <span role="alertdialog" aria-label={`Delete ${b.id}?`}>
            Delete {props.count ?? ''} events for good?{' '}
            <button class="danger small" onClick={props.onConfirm} ref={(el) => el?.focus()}>
              Delete
            </button>{' '}
            <button class="small" onClick={props.onCancel}>
              Cancel
            </button>
          </span>
        ) : (
          <button class="small" onClick={props.onDelete}>
            Delete…
          </button>
        )}
      </td>
    </tr>
  );
}

function BucketEvents(props: { id: string }) {
  const [page, setPage] = useState(0);
  const [events, setEvents] = useState<AwEvent[] | null>(null);
  const [total, setTotal] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api.eventCount(props.id).then(setTotal, (e: Error) => setError(e.message));
  }, [props.id]);
  useEffect(() => {
    let stale = false;
    // Newest first; a page is the tail of the newest (page+1)·PAGE events, so nothing is clipped or repeated.
    api.events(props.id, { limit: (page + 1) * PAGE }).then(
      (ev) => !stale && setEvents(ev.slice(page * PAGE)),
      (e: Error) => !stale && setError(e.message),
    );
    return () => void (stale = true);
  }, [props.id, page]);
  const pages = total === null ? null : Math.max(1, Math.ceil(total / PAGE));
  return (
    <div class="view">
      <div class="toolbar">
        <a
          href="/buckets"
          class="button"
          onClick={(e) => {
            e.preventDefault();
            navigate('/buckets');
          }}
        >
          ‹ Buckets
        </a>
        <h2>{props.id}</h2>
        <a class="button" href={api.exportUrl(props.id)} download={`${props.id}.json`}>
          Export
        </a>
      </div>
      <ErrorBox error={error} />
      {!events && !error && <Loading />}
      {events && events.length === 0 && <Empty>This bucket has no events.</Empty>}
      {events && events.length > 0 && (
        <div class="card table-wrap">
          <table data-testid="event-table">
            <thead>
              <tr>
                <th>Time</th>
                <th class="num">Duration</th>
                <th>Data</th>
              </tr>
            </thead>
            <tbody>
              {events.map((e) => (
                <tr key={e.id ?? e.timestamp}>
                  <td class="nowrap">{formatDateTime(e.timestamp)}</td>
                  <td class="num">{formatDuration(e.duration)}</td>
                  <td class="data">{JSON.stringify(e.data)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <div class="toolbar pager">
        <button disabled={page === 0} onClick={() => setPage(page - 1)}>
          ‹ Newer
        </button>
        <span>
          Page {page + 1}
          {pages ? ` of ${pages}` : ''}
        </span>
        <button disabled={!events || events.length < PAGE || (pages !== null && page + 1 >= pages)} onClick={() => setPage(page + 1)}>
          Older ›
        </button>
      </div>
    </div>
  );
}
