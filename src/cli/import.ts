import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { openStorageWriter } from '../actors/storage-writer/writer.js';
import { exportChunks, type RawBucket } from '../http/api0/export.js';
import { runImport, toBatch, writerSink, type ImportSink } from '../import/apply.js';
import { defaultSources, openSource, SourceError, type Source } from '../import/sources.js';
import { silentLogger } from '../log.js';
import { InputError } from '../model/errors.js';
import { formatTimestamp, parseTimestamp } from '../model/time.js';
import { openReadonly, openWritable } from '../storage/open.js';
import { Reader } from '../storage/read.js';
import { bool, str } from './args.js';
import { Failed, UsageError } from '../model/errors.js';
import { flags, type Command } from './command.js';
import { where, type Where } from './context.js';
import { lockDataDir } from '../datadir/lock.js';
import { callOk, runningDaemon } from './daemon-client.js';
import { DAEMON_FLAGS, DATA_FLAGS } from './flags.js';
import { progressBar } from './progress.js';

/** Control bodies are limited to 1 MB: a batch that would be bigger is sent in halves. */
const MAX_BODY = 900_000;

/** Imports into the running daemon through its control endpoint (the storage writer stays the one writer). */
function daemonSink(w: Where): ImportSink {
  const send = async (batch: ReturnType<typeof toBatch>): Promise<{ created: boolean; inserted: number }> => {
    if (batch.events.length > 1 && JSON.stringify(batch).length > MAX_BODY) {
      const half = Math.ceil(batch.events.length / 2);
      const a = await send({ ...batch, events: batch.events.slice(0, half) });
      const b = await send({ ...batch, events: batch.events.slice(half), fresh: batch.fresh || a.created });
      return { created: a.created || b.created, inserted: a.inserted + b.inserted };
    }
    return (await callOk(w, 'POST', '/api/control/import', 'import', batch)) as { created: boolean; inserted: number };
  };
  return {
    exists: async (id) => ((await callOk(w, 'POST', '/api/control/bucket-exists', 'import', { id })) as { exists: boolean }).exists,
    put: (bucket, events, fresh) => send(toBatch(bucket, events, fresh)),
  };
}

const day = (us: number | null) => (us === null ? '-' : formatTimestamp(us).slice(0, 10));

function findSource(given: string | undefined): string {
  if (given) return path.resolve(given);
  const found = defaultSources().find((f) => fs.existsSync(f));
  if (!found) throw new Failed(`no ActivityWatch database found (looked for ${defaultSources().join(' and ')}); give one with --db PATH`);
  return found;
}

const importCommand: Command = {
  name: 'import',
  summary: 'bring your ActivityWatch history: its database (aw-server-rust or aw-server) or an export file',
  args: 'activitywatch',
  positionals: [1, 1],
  flags: flags([...DAEMON_FLAGS, 'dry-run'], {
    db: { type: 'string', arg: 'PATH', default: "ActivityWatch's database in the platform data dir", help: 'sqlite.db, peewee-sqlite.v2.db or an export .json' },
  }),
  details:
    'The source is only read. Works with the daemon running (through it) or stopped (directly).\n' +
    'Running it again adds nothing: events already stored are recognised and skipped.',
  async run(f, [what]) {
    if (what !== 'activitywatch') throw new UsageError(`import: unknown source '${what}' (activitywatch)`);
    const w = await where(f);
    const file = findSource(str(f, 'db'));
    let source: Source;
    try {
      source = await openSource(file);
    } catch (err) {
      if (err instanceof SourceError) throw new Failed(err.message);
      throw err;
    }
    const daemon = runningDaemon(w);
    const cleanup: (() => void | Promise<void>)[] = [() => source.close()];
    try {
      let sink: ImportSink;
      let read: (() => Reader) | null = null;
      if (daemon) {
        sink = daemonSink(w);
      } else if (bool(f, 'dry-run')) {
        const exists = fs.existsSync(w.paths.database);
        let reader: Reader | null = null;
        cleanup.push(() => void reader?.db.close());
        sink = { exists: async (id) => exists && (reader ??= new Reader(openReadonly(w.paths.database))).bucket(id) !== undefined, put: async () => ({ created: false, inserted: 0 }) };
      } else {
        // Writing the database directly: hold the data dir so that no daemon starts meanwhile.
        const lock = lockDataDir(w.paths.lock, w.paths.runtime);
        cleanup.push(() => lock.release());
        const writer = await openStorageWriter(w.paths.database, { log: silentLogger(), privacy: w.config.privacy });
        let reader: Reader | null = null;
        read = () => (reader ??= new Reader(openReadonly(w.paths.database)));
        cleanup.push(async () => {
          reader?.db.close();
          await writer.close();
          openWritable(w.paths.database).close(); // fold the WAL back into the file
        });
        sink = writerSink(read, writer);
      }
      const total = source.buckets.reduce((n, b) => n + b.count, 0);
      console.log(`${source.kind}: ${file}${daemon ? ` → the running daemon (pid ${daemon.pid})` : ` → ${w.paths.database}`}`);
      if (bool(f, 'dry-run')) {
        const width = Math.max(10, ...source.buckets.map((b) => b.bucket.id.length));
        for (const b of source.buckets) {
          const note = (await sink.exists(b.bucket.id)) ? '  (exists here: only new events would be added)' : '';
          console.log(`  ${b.bucket.id.padEnd(width)}  ${b.bucket.type.padEnd(16)} ${String(b.count).padStart(9)} events  ${day(b.start)} → ${day(b.end)}${note}`);
        }
        console.log(`${source.buckets.length} buckets, ${total} events${source.skipped ? `, ${source.skipped} unreadable (skipped)` : ''} (dry run: nothing imported)`);
        return 0;
      }
      const bar = progressBar('importing');
      const r = await runImport(source, sink, (done, all) => bar.update(done, all));
      bar.done(r.seen, total);
      for (const b of r.buckets) console.log(`  ${b.id}: ${b.inserted} of ${b.count} events added${b.existed ? ' (merged into the existing bucket)' : ''}`);
      console.log(`imported ${r.inserted} events into ${r.buckets.length} buckets${r.seen - r.inserted > 0 ? `; ${r.seen - r.inserted} were already here` : ''}${r.skipped ? `; ${r.skipped} unreadable events skipped` : ''}`);
      return 0;
    } finally {
      for (const c of cleanup.reverse()) await c();
    }
  },
};

const exportCommand: Command = {
  name: 'export',
  summary: 'write buckets and events in the ActivityWatch export format (stdout, or --out FILE)',
  positionals: [0, 0],
  flags: flags(DATA_FLAGS, {
    bucket: { type: 'string', arg: 'B', default: 'every bucket', help: 'only bucket B' },
    since: { type: 'string', arg: 'T', help: 'only events starting at or after T (RFC 3339, e.g. 2024-01-01T00:00:00Z)' },
    out: { type: 'string', arg: 'FILE', default: 'stdout', help: 'write to FILE (0600) instead of stdout' },
  }),
  async run(f) {
    const w = await where(f);
    let since: number | null = null;
    const s = str(f, 'since');
    if (s !== undefined) {
      try {
        since = parseTimestamp(s, '--since');
      } catch (err) {
        throw new UsageError(err instanceof InputError ? `--since must be an RFC 3339 time such as 2024-01-01T00:00:00Z, not '${s}'` : (err as Error).message);
      }
    }
    if (!fs.existsSync(w.paths.database)) throw new Failed(`no database at ${w.paths.database}`);
    const db = openReadonly(w.paths.database);
    try {
      db.exec('BEGIN'); // one snapshot for the whole export, while the daemon keeps writing
      const only = str(f, 'bucket');
      const buckets = (only === undefined ? db.prepare('SELECT * FROM buckets ORDER BY name').all() : db.prepare('SELECT * FROM buckets WHERE name = ?').all(only)) as RawBucket[];
      if (only !== undefined && buckets.length === 0) throw new Failed(`no bucket '${only}'`);
      const out = str(f, 'out');
      const total = (db.prepare(`SELECT count(*) AS n FROM events WHERE bucketrow IN (${buckets.map((b) => b.id).join(',') || 'NULL'})${since === null ? '' : ' AND starttime >= ?'}`).get(...(since === null ? [] : [since])) as { n: number }).n;
      const bar = progressBar('exporting');
      let written = 0;
      // Progress by events: count the event objects in each chunk as it goes out.
      const chunks = Readable.from(
        (function* () {
          for (const c of exportChunks(db, buckets, since)) {
            written += c.split('"timestamp":').length - 1;
            if (out) bar.update(written, total);
            yield c;
          }
        })(),
      );
      if (out) {
        await pipeline(chunks, fs.createWriteStream(path.resolve(out), { mode: 0o600 }));
        bar.done(written, total);
        console.error(`exported ${written} events from ${buckets.length} buckets to ${path.resolve(out)}`);
      } else {
        await pipeline(chunks, process.stdout);
      }
      return 0;
    } finally {
      if (db.inTransaction) db.exec('COMMIT');
      db.close();
    }
  },
};

export const importCommands: Command[] = [importCommand, exportCommand];
