import fs from 'node:fs';
import { isPlainObject } from '../model/event.js';

/**
 * The config file (JSON). Every key is optional; what is absent takes the embedded default.
 * Documented in docs/config.md.
 */
export interface Config {
  server: {
    host: string;
    port: number;
    cors: string[];
    cors_regex: string[];
    api_key: string | null;
    /** Deliver heartbeats to this remote ActivityWatch-compatible server instead of storing them here. */
    forward_url: string | null;
  };
  bus: {
    /** Use an existing NATS server instead of starting nats-server. */
    url: string | null;
    user: string | null;
    pass: string | null;
    /** Path of the nats-server binary (default: looked up on PATH). */
    nats_server: string | null;
  };
  queue: { max_items: number };
  query: { timeout_ms: number; threads: number };
  watchers: {
    enabled: boolean;
    afk: { poll_time: number; timeout: number };
    window: { poll_time: number; exclude_title: boolean; exclude_titles: string[] };
  };
  privacy: {
    /** Drop or redact events whose data field matches; see src/privacy/filters.ts. */
    rules: { field: string; pattern: string; action: 'drop' | 'redact'; buckets?: string; ignoreCase?: boolean }[];
    keep_incognito: boolean;
  };
  /** Scheduled upkeep (cron expressions, local time); see docs/service.md. */
  jobs: {
    enabled: boolean;
    /** Online backup of the database into <data dir>/backups, keeping the newest `keep`. */
    backup: { schedule: string; keep: number };
    /** PRAGMA optimize and an incremental vacuum of free pages. */
    optimize: { schedule: string };
    /** Rotates the daemon's log file above `max_bytes`, keeping the newest `keep` rotated files. */
    prune_logs: { schedule: string; max_bytes: number; keep: number };
  };
}

export function defaultConfig(testing: boolean): Config {
  return {
    server: { host: '127.0.0.1', port: testing ? 5666 : 5600, cors: [], cors_regex: [], api_key: null, forward_url: null },
    bus: { url: null, user: null, pass: null, nats_server: null },
    queue: { max_items: 1_000_000 },
    query: { timeout_ms: 30_000, threads: 2 },
    watchers: {
      enabled: true,
      afk: testing ? { poll_time: 1, timeout: 20 } : { poll_time: 5, timeout: 180 },
      window: { poll_time: 1, exclude_title: false, exclude_titles: [] },
    },
    privacy: { rules: [], keep_incognito: false },
    jobs: {
      enabled: true,
      backup: { schedule: '30 3 * * *', keep: 7 },
      optimize: { schedule: '0 4 * * 0' },
      prune_logs: { schedule: '15 4 * * *', max_bytes: 10_000_000, keep: 5 },
    },
  };
}

/** Deep-merges user values over defaults, refusing keys of the wrong type with a message naming them. */
function overlay(base: Record<string, unknown>, user: Record<string, unknown>, where: string): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(user)) {
    const at = where ? `${where}.${k}` : k;
    if (!(k in base)) throw new Error(`config: unknown key '${at}'`);
    const d = base[k];
    if (isPlainObject(d)) {
      if (!isPlainObject(v)) throw new Error(`config: '${at}' must be an object`);
      out[k] = overlay(d, v, at);
    } else if (d !== null && v !== null && typeof d !== typeof v) {
      throw new Error(`config: '${at}' must be a ${Array.isArray(d) ? 'list' : typeof d}`);
    } else {
      out[k] = v;
    }
  }
  return out;
}

export function loadConfig(file: string, testing: boolean): Config {
  const defaults = defaultConfig(testing);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return defaults;
    throw err;
  }
  let user: unknown;
  try {
    user = JSON.parse(text);
  } catch (err) {
    throw new Error(`config: ${file} is not valid JSON: ${(err as Error).message}`);
  }
  if (!isPlainObject(user)) throw new Error(`config: ${file} must hold a JSON object`);
  return overlay(defaults as unknown as Record<string, unknown>, user, '') as unknown as Config;
}
