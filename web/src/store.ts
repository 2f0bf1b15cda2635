import { useEffect, useState } from 'preact/hooks';
import { api, type Bucket } from './api';

/** Settings shared with ActivityWatch's UI (same keys and shapes), loaded once and kept in sync. */
type Listener = () => void;
const listeners = new Set<Listener>();
/** Counts changes, so a component can tell it missed one between its render and its subscription. */
let version = 0;
const notify = () => {
  version++;
  listeners.forEach((l) => l());
};

export const store = {
  settings: null as Record<string, unknown> | null,
  settingsError: null as string | null,
  info: null as { hostname: string; version: string } | null,
  buckets: null as Bucket[] | null,
  bucketsError: null as string | null,
};

export async function loadSettings(): Promise<void> {
  try {
    store.settings = await api.settings();
    store.settingsError = null;
  } catch (e) {
    store.settings = {};
    store.settingsError = (e as Error).message;
  }
  applyTheme();
  notify();
}

export async function loadBuckets(): Promise<void> {
  try {
    const [info, buckets] = await Promise.all([api.info(), api.buckets()]);
    // Buckets that came, went or were imported into: remembered query results may be stale.
    const shape = (bs: Bucket[]) => JSON.stringify(bs.map((b) => [b.id, b.created, b.metadata?.start ?? null]));
    const next = Object.values(buckets).sort((a, b) => a.id.localeCompare(b.id));
    if (store.buckets && shape(store.buckets) !== shape(next)) api.forgetResults();
    store.info = info;
    store.buckets = next;
    store.bucketsError = null;
  } catch (e) {
    store.buckets = [];
    store.bucketsError = (e as Error).message;
  }
  notify();
}

export async function saveSetting(key: string, value: unknown): Promise<void> {
  await api.setSetting(key, value);
  store.settings = { ...(store.settings ?? {}), [key]: value };
  if (key === 'theme') applyTheme();
  notify();
}

/** Re-renders the caller whenever the store changes. */
export function useStore(): typeof store {
  const [, setTick] = useState(0);
  const rendered = version;
  useEffect(() => {
    const l = () => setTick((t) => t + 1);
    listeners.add(l);
    // The first answers (asked before the first render) may have come before this subscription.
    if (version !== rendered) l();
    return () => void listeners.delete(l);
  }, []);
  return store;
}

/** Theme setting as ActivityWatch stores it: "auto" | "light" | "dark". */
export function themeSetting(): 'auto' | 'light' | 'dark' {
  const t = store.settings?.theme;
  return t === 'light' || t === 'dark' ? t : 'auto';
}

const dark = matchMedia('(prefers-color-scheme: dark)');
function applyTheme(): void {
  const t = themeSetting();
  const effective = t === 'auto' ? (dark.matches ? 'dark' : 'light') : t;
  localStorage.setItem('sundial.theme', t === 'auto' ? 'system' : t);
  if (document.documentElement.dataset.theme !== effective) {
    document.documentElement.dataset.theme = effective;
    notify();
  }
}
dark.addEventListener('change', applyTheme);

export function useTheme(): 'light' | 'dark' {
  useStore();
  return document.documentElement.dataset.theme === 'dark' ? 'dark' : 'light';
}

/** The host to show: the server's own first, else the one with the most recently updated window bucket. */
export function hosts(buckets: Bucket[], own: string | undefined): string[] {
  const hs = [...new Set(buckets.map((b) => b.hostname || String(b.data?.hostname ?? '')))].filter(Boolean);
  const last = (h: string) => Math.max(0, ...buckets.filter((b) => b.hostname === h).map((b) => Date.parse(b.last_updated ?? b.metadata?.end ?? '') || 0));
  return hs.sort((a, b) => (a === own ? -1 : b === own ? 1 : last(b) - last(a)));
}
