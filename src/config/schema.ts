import cron from 'node-cron';
import { z } from 'zod';
import { PROBE_NAMES } from '../platform/choose.js';

/**
 * The one declaration of Sundial's settings: the defaults, the validation, the table in
 * docs/config.md (`npm run docs:config`) and `sundial config` all derive from it. Every key is
 * optional in the file; `--testing` changes a few defaults (port, AFK timings), as ActivityWatch's does.
 */

const isRegex = (p: string): boolean => {
  try {
    new RegExp(p);
    return true;
  } catch {
    return false;
  }
};
const regex = z.string().refine(isRegex, 'is not a valid regular expression');
const port = z.number().int().min(0).max(65535);
const seconds = z.number().positive();
const url = z.string().url();
// A NATS server, or several of one cluster, comma-separated.
const natsUrls = z
  .string()
  .refine((v) => v.split(',').every((u) => URL.canParse(u.trim())), 'is not a URL (or comma-separated URLs)');
const schedule = z.string().refine((c) => cron.validate(c), 'is not a valid cron expression');

export function configSchema(testing: boolean) {
  // A missing section is an empty one, so each of its keys takes its default.
  const section = <T extends z.ZodRawShape>(shape: T) => z.strictObject(shape).prefault({} as never);
  return z.strictObject({
    server: section({
      host: z.string().min(1).default('127.0.0.1').describe('address the HTTP server binds (keep it loopback)'),
      port: port.default(testing ? 5666 : 5600).describe('HTTP port (5666 with --testing; --port overrides)'),
      cors: z.array(z.string()).default([]).describe('extra origins allowed by CORS, exact'),
      cors_regex: z.array(regex).default([]).describe('extra origins allowed by CORS, as anchored regexes'),
      api_key: z.string().min(1).nullable().default(null).describe('when set, /api/0 requests need `Authorization: Bearer <key>`'),
      forward_url: url.nullable().default(null).describe('deliver heartbeats to this ActivityWatch-compatible server instead of storing them here'),
    }),
    bus: section({
      url: url.nullable().default(null).describe('use this NATS server instead of starting nats-server'),
      user: z.string().nullable().default(null).describe('user for `bus.url`'),
      pass: z.string().nullable().default(null).describe('password for `bus.url`'),
      nats_server: z.string().min(1).nullable().default(null).describe('path of the nats-server binary (default: found on PATH)'),
    }),
    queue: section({
      max_items: z.number().int().positive().default(1_000_000).describe('bound of the heartbeat queue on disk; writes are refused (never dropped) when full'),
    }),
    query: section({
      timeout_ms: z.number().int().positive().default(30_000).describe('a query running longer is stopped (408)'),
      threads: z.number().int().min(1).max(64).default(1).describe('query worker threads, started at the first request that reads (each keeps its own event cache)'),
      cache_mb: z
        .number()
        .int()
        .min(1)
        .max(65_536)
        .default(64)
        .describe('budget of each query worker\'s event cache (≈40 bytes an event, and up to ≈36 more for the floods kept with it); the least recently used bucket is evicted beyond it. Each worker also keeps up to twice this in scratch arrays for the next query, let go after a minute without queries'),
    }),
    watchers: section({
      enabled: z.boolean().default(true).describe('run the built-in AFK and window watchers'),
      probe: z
        .enum(['auto', ...PROBE_NAMES])
        .default('auto')
        .describe('`auto`: choose the probe from the session\'s environment (docs/wayland.md); or force one'),
      commit_interval: z
        .number()
        .min(0)
        .default(testing ? 0 : 10)
        .describe('seconds a heartbeat that only extends the current event is held in memory before it is written (0: write every poll); a crash loses at most this much of the current event (docs/performance.md)'),
      afk: section({
        poll_time: seconds.default(testing ? 1 : 5).describe('seconds between idle checks'),
        timeout: seconds.default(testing ? 20 : 180).describe('seconds without input before you count as away'),
        media_counts_as_active: z
          .boolean()
          .default(true)
          .describe('while media plays (the `media` plugin, or any fresh `media.playing` event), you do not count as away'),
      }),
      window: section({
        poll_time: seconds.default(1).describe('seconds between active-window checks'),
        exclude_title: z.boolean().default(false).describe('record every window title as "excluded"'),
        exclude_titles: z.array(regex).default([]).describe('titles matching one of these regexes (case-insensitive) are recorded as "excluded"'),
      }),
    }),
    privacy: section({
      rules: z
        .array(
          z.strictObject({
            field: z.string().min(1),
            pattern: regex,
            action: z.enum(['drop', 'redact']),
            buckets: z.string().optional(),
            ignoreCase: z.boolean().optional(),
          }),
        )
        .default([])
        .describe('drop or redact events whose data field matches, before they are stored (see below)'),
      keep_incognito: z.boolean().default(false).describe('keep browser events marked `incognito: true`'),
    }),
    plugins: z
      .array(
        z.strictObject({
          name: z.string().regex(/^[A-Za-z0-9._-]{1,100}$/, "must be letters, digits, '.', '_' or '-'"),
          command: z.string().min(1).optional(),
          args: z.array(z.string()).optional(),
          env: z.record(z.string(), z.string()).optional(),
          enabled: z.boolean().optional(),
        }),
      )
      .default([])
      .describe('plugins and external watchers run as supervised child processes: `[[plugins]]` with `name`, `command` (not for bundled ones: `media`), `args`, `env`, `enabled` (docs/plugins.md)'),
    plugins_discover: z.boolean().default(false).describe('also run every `aw-watcher-*` / `sundial-watcher-*` executable on PATH'),
    jobs: section({
      enabled: z.boolean().default(true).describe('run the scheduled jobs below (cron expressions, local time; docs/service.md)'),
      backup: section({
        schedule: schedule.default('30 3 * * *').describe('online backup of the database into `backups/`'),
        keep: z.number().int().min(1).default(7).describe('backups kept (the newest)'),
      }),
      optimize: section({
        schedule: schedule.default('0 4 * * 0').describe('`PRAGMA optimize` and an incremental vacuum of free pages'),
      }),
      prune_logs: section({
        schedule: schedule.default('15 4 * * *').describe("rotation of the daemon's log file"),
        max_bytes: z.number().int().positive().default(10_000_000).describe('the log file is rotated above this size'),
        keep: z.number().int().min(0).default(5).describe('rotated log files kept'),
      }),
    }),
    sync: section({
      enabled: z.boolean().default(false).describe('sync shared buckets with your other devices through the NATS server at `sync.url`, end-to-end encrypted (docs/sync.md; then `sundial sync setup`)'),
      url: natsUrls.nullable().default(null).describe('NATS server with JetStream, e.g. `tls://nats.example.org:4222`; several of one cluster separated by commas'),
      user: z.string().min(1).nullable().default(null).describe('user for `sync.url` (with `sync.password`)'),
      password: z.string().min(1).nullable().default(null).describe('password for `sync.url`'),
      token: z.string().min(1).nullable().default(null).describe('token for `sync.url` (instead of user and password)'),
      creds: z.string().min(1).nullable().default(null).describe('NATS credentials file (NKey/JWT) for `sync.url`'),
      buckets: z.array(z.string().min(1)).default(['aw-watcher-*']).describe('which buckets to share: bucket ids or `*` patterns (buckets pulled from other devices are never shared again)'),
      replicas: z.number().int().min(1).max(5).default(1).describe('copies of the sync stream kept by a NATS cluster (used when the stream is first created)'),
    }),
    ui: section({
      static_dir: z.string().min(1).nullable().default(null).describe("serve this folder at `/` instead of the built-in web UI (e.g. a build of ActivityWatch's web UI)"),
    }),
  });
}

export type Config = z.output<ReturnType<typeof configSchema>>;

export type PluginConfig = Config['plugins'][number];
