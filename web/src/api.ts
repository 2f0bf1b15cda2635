/** The daemon's REST API (/api/0) and control endpoint (/api/control), same origin. */

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/** An API key given as `?token=` (config server.api_key) is kept for this tab and dropped from the URL. */
function apiKey(): string | null {
  const url = new URL(location.href);
  const t = url.searchParams.get('token');
  if (t) {
    sessionStorage.setItem('sundial.apiKey', t);
    url.searchParams.delete('token');
    history.replaceState(null, '', url.toString());
  }
  return sessionStorage.getItem('sundial.apiKey');
}
const key = apiKey();

/** Counts query requests, so the benchmark and tests can tell how many a view needed. */
export const stats = { queries: 0 };
(window as unknown as { __sundial: typeof stats }).__sundial = stats;

async function request<T>(method: string, path: string, body?: unknown, control = false): Promise<T> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (key && !control) headers.Authorization = `Bearer ${key}`;
  let res: Response;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin' });
  } catch {
    throw new ApiError('the daemon does not answer — is Sundial running?', 0);
  }
  const text = await res.text();
  let data: unknown = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = text;
  }
  if (!res.ok) {
    const msg = data && typeof data === 'object' && 'message' in data ? String((data as { message: unknown }).message) : `${res.status} ${res.statusText}`;
    throw new ApiError(msg, res.status);
  }
  return data as T;
}

export interface Bucket {
  id: string;
  type: string;
  client: string;
  hostname: string;
  created: string;
  last_updated?: string;
  data?: Record<string, unknown>;
  metadata?: { start?: string | null; end?: string | null };
}

export interface AwEvent {
  id?: number;
  timestamp: string;
  duration: number;
  data: Record<string, unknown>;
}

const pastResults = new Map<string, Promise<unknown[]>>();

export const api = {
  info: () => request<{ hostname: string; version: string; testing: boolean }>('GET', '/api/0/info'),
  buckets: () => request<Record<string, Bucket>>('GET', '/api/0/buckets/'),
  events: (id: string, q: { start?: string; end?: string; limit?: number }) => {
    const p = new URLSearchParams();
    if (q.start) p.set('start', q.start);
    if (q.end) p.set('end', q.end);
    p.set('limit', String(q.limit ?? -1));
    return request<AwEvent[]>('GET', `/api/0/buckets/${encodeURIComponent(id)}/events?${p}`);
  },
  eventCount: (id: string) => request<number>('GET', `/api/0/buckets/${encodeURIComponent(id)}/events/count`),
  deleteBucket: (id: string) => request<null>('DELETE', `/api/0/buckets/${encodeURIComponent(id)}?force=1`),
  settings: () => request<Record<string, unknown>>('GET', '/api/0/settings'),
  setSetting: (k: string, v: unknown) => request<unknown>('POST', `/api/0/settings/${encodeURIComponent(k)}`, v),
  query: <T = unknown>(timeperiods: string[], query: string[]): Promise<T[]> => {
    // Periods wholly in the past give the same answer until data is imported or deleted (which reloads
    // the bucket list and so clears this), so going back to a view redraws without asking again.
    const past = timeperiods.every((p) => Date.parse(p.slice(p.indexOf('/') + 1)) < Date.now());
    const key = JSON.stringify([timeperiods, query]);
    const hit = past ? pastResults.get(key) : undefined;
    if (hit) return hit as Promise<T[]>;
    stats.queries++;
    const r = request<T[]>('POST', '/api/0/query/', { timeperiods, query });
    if (past) {
      pastResults.set(key, r);
      r.catch(() => pastResults.delete(key));
      if (pastResults.size > 50) pastResults.delete(pastResults.keys().next().value!);
    }
    return r;
  },
  forgetResults: () => pastResults.clear(),
  exportUrl: (id?: string) => (id ? `/api/0/buckets/${encodeURIComponent(id)}/export` : '/api/0/export'),
};

let session: Promise<unknown> | null = null;
/** Control calls ride on an HttpOnly session cookie the daemon gives only to its own pages. */
async function control<T>(method: string, path: string, body?: unknown): Promise<T> {
  session ??= request('POST', '/api/control/session', undefined, true).catch((e: unknown) => {
    session = null;
    throw e;
  });
  await session;
  try {
    return await request<T>(method, path, body, true);
  } catch (e) {
    // The daemon restarted and forgot the session: ask once more.
    if (e instanceof ApiError && e.status === 401) {
      session = null;
      await (session = request('POST', '/api/control/session', undefined, true));
      return request<T>(method, path, body, true);
    }
    throw e;
  }
}

export interface ChildStatus {
  name: string;
  state: string;
  pid: number | null;
  restarts: number;
  lastError: string | null;
  uptimeMs: number | null;
  info: Record<string, unknown>;
}
export interface DaemonStatus {
  version: string;
  pid: number;
  uptimeMs: number;
  dataDir: string;
  bus: { mode: string; url: string; connected: boolean };
  paused: { paused: boolean; until: number | null };
  queue: Record<string, unknown> | null;
  children: ChildStatus[];
}

export const ctl = {
  status: () => control<DaemonStatus>('GET', '/api/control/status'),
  child: (name: string, action: 'restart' | 'stop' | 'start') => control<unknown>('POST', `/api/control/children/${encodeURIComponent(name)}/${action}`),
  pause: (minutes: number | null) => control<unknown>('POST', '/api/control/pause', minutes ? { minutes } : {}),
  resume: () => control<unknown>('POST', '/api/control/resume', {}),
};

/** Upload for POST /api/0/import with progress (fetch has no upload progress). */
export function importFile(file: File, onProgress: (fraction: number) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const form = new FormData();
    form.append('buckets.json', file, file.name);
    const xhr = new XMLHttpRequest();
    xhr.open('POST', '/api/0/import');
    if (key) xhr.setRequestHeader('Authorization', `Bearer ${key}`);
    xhr.upload.onprogress = (e) => e.lengthComputable && onProgress(e.loaded / e.total);
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) return resolve();
      let msg = `${xhr.status} ${xhr.statusText}`;
      try {
        msg = (JSON.parse(xhr.responseText) as { message: string }).message ?? msg;
      } catch {
        /* not JSON */
      }
      reject(new ApiError(msg, xhr.status));
    };
    xhr.onerror = () => reject(new ApiError('upload failed: the daemon does not answer', 0));
    xhr.send(form);
  });
}
