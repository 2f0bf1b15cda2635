import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/config.js';
import { openStorageWriter } from '../../src/actors/storage-writer/writer.js';
import { backupDatabase, listBackups } from '../../src/jobs/backup.js';
import { jobsChild, type JobStatus } from '../../src/jobs/child.js';
import { pruneLogs, rotatedLogs } from '../../src/jobs/logs.js';
import { silentLogger } from '../../src/log.js';
import { parseTimestamp } from '../../src/model/time.js';
import { openReadonly } from '../../src/storage/open.js';
import { createSupervisor } from '../../src/supervisor/supervisor.js';
import { runCli, spawnRunning, startInProcess, waitFor } from '../helpers/daemon.js';
import { perTest } from '../helpers/tmp.js';

const { cleanups, tmp } = perTest();
const T0 = parseTimestamp('2024-06-01T08:00:00Z');

function eventRows(file: string): unknown[] {
  const db = openReadonly(file);
  try {
    return db.prepare('SELECT b.name, e.starttime, e.endtime, e.data FROM events e JOIN buckets b ON b.id = e.bucketrow ORDER BY e.id').all();
  } finally {
    db.close();
  }
}

describe('backup', () => {
  it('takes an online backup while the daemon writes, equal to the database at that moment, and keeps the newest N', async () => {
    const dir = tmp();
    const d = await startInProcess(dir);
    cleanups.push(() => d.stop());
    const base = `http://127.0.0.1:${d.port}/api/0`;
    const json = { 'content-type': 'application/json' };
    await fetch(`${base}/buckets/b1`, { method: 'POST', headers: json, body: JSON.stringify({ client: 'c', type: 't', hostname: 'h' }) });
    const events = Array.from({ length: 3000 }, (_, i) => ({ timestamp: new Date(T0 / 1000 + i * 1000).toISOString(), duration: 1, data: { i, t: 'ü' } }));
    expect((await fetch(`${base}/buckets/b1/events`, { method: 'POST', headers: json, body: JSON.stringify(events) })).status).toBe(200);
    const db = path.join(dir, 'sqlite-testing.db');
    const backups = path.join(dir, 'backups');
    // Writes go on during the backup; the copy is one consistent snapshot.
    let writing = true;
    const writer = (async () => {
      for (let i = 0; writing; i++) {
        await fetch(`${base}/buckets/b1/heartbeat?pulsetime=0`, { method: 'POST', headers: json, body: JSON.stringify({ timestamp: new Date(T0 / 1000 + 1e7 + i * 1000).toISOString(), duration: 0, data: { hb: i } }) });
      }
    })();
    const r = await backupDatabase(db, backups, 2, undefined, new Date('2024-06-01T03:30:00Z'));
    writing = false;
    await writer;
    expect(path.basename(r.file)).toBe('sundial-20240601T033000Z.db');
    expect(fs.statSync(r.file).mode & 0o777).toBe(0o600);
    const copy = new Database(r.file, { readonly: true });
    expect(copy.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(copy.pragma('journal_mode', { simple: true })).toBe('delete');
    copy.close();
    const inBackup = eventRows(r.file);
    expect(inBackup.length).toBeGreaterThanOrEqual(3000);
    // Every event in the backup is in the live database too, in the same order (a prefix of it).
    expect(eventRows(db).slice(0, inBackup.length)).toEqual(inBackup);

    await backupDatabase(db, backups, 2, undefined, new Date('2024-06-02T03:30:00Z'));
    await backupDatabase(db, backups, 2, undefined, new Date('2024-06-03T03:30:00Z'));
    expect(listBackups(backups).map((f) => path.basename(f))).toEqual(['sundial-20240603T033000Z.db', 'sundial-20240602T033000Z.db']);
    expect(fs.readdirSync(backups).filter((n) => n.endsWith('.partial'))).toEqual([]);
  });
});

describe('optimize through the storage writer', () => {
  it('hands free pages back with an incremental vacuum', async () => {
    const dir = tmp();
    const file = path.join(dir, 'db.sqlite');
    const w = await openStorageWriter(file, { log: silentLogger() });
    cleanups.push(() => w.close());
    await w.submit({ kind: 'createBucket', bucket: { id: 'big', type: 't', client: 'c', hostname: 'h', created: T0, data: {} } });
    const events = Array.from({ length: 20000 }, (_, i) => ({ id: null, timestamp: T0 + i * 1e6, duration: 1e6, data: { title: 'x'.repeat(200), i } }));
    await w.submit({ kind: 'insertEvents', bucket: 'big', events });
    await w.submit({ kind: 'deleteBucket', id: 'big' });
    const first = await w.submit({ kind: 'maintenance', optimize: true, vacuumPages: 0 });
    expect(first.autoVacuum).toBe(2);
    expect(first.freePagesBefore).toBeGreaterThan(500);
    let m = first;
    while (m.freePagesAfter > 0) m = await w.submit({ kind: 'maintenance', optimize: false, vacuumPages: 200 });
    expect(m.freePagesAfter).toBe(0);
  });
});

describe('log pruning', () => {
  it('rotates the log above the size limit, truncating in place, and keeps the newest N rotated files', () => {
    const dir = tmp();
    const log = path.join(dir, 'sundial.log');
    const fd = fs.openSync(log, 'a', 0o600); // as the daemon holds it
    fs.writeSync(fd, 'x'.repeat(2000) + '\n');
    const r1 = pruneLogs(log, 1000, 2, new Date('2024-06-01T04:15:00Z'));
    expect(r1.rotated).toBe(`${log}.20240601T041500Z`);
    expect(fs.statSync(log).size).toBe(0);
    fs.writeSync(fd, 'after rotation\n');
    expect(fs.readFileSync(log, 'utf8')).toBe('after rotation\n');
    fs.writeSync(fd, 'y'.repeat(2000));
    pruneLogs(log, 1000, 2, new Date('2024-06-02T04:15:00Z'));
    fs.writeSync(fd, 'z'.repeat(2000));
    const r3 = pruneLogs(log, 1000, 2, new Date('2024-06-03T04:15:00Z'));
    expect(r3.removed).toEqual([`${log}.20240601T041500Z`]);
    expect(rotatedLogs(log)).toEqual([`${log}.20240603T041500Z`, `${log}.20240602T041500Z`]);
    expect(pruneLogs(log, 1000, 2).rotated).toBeNull();
    fs.closeSync(fd);
  });
});

describe('the jobs child', () => {
  it('runs jobs on their schedule; a failing job is reported and runs again, the others keep going', async () => {
    let good = 0;
    let bad = 0;
    const sup = createSupervisor({
      log: silentLogger(),
      children: [
        jobsChild([
          { name: 'good', schedule: '* * * * * *', run: async () => `run ${++good}` },
          { name: 'bad', schedule: '* * * * * *', run: async () => { bad++; throw new Error('disk on fire'); } },
        ]),
      ],
    });
    await sup.start();
    cleanups.push(() => sup.stop());
    const jobs = () => sup.status()[0]!.info.jobs as JobStatus[];
    await waitFor('two failed runs', () => bad >= 2 && good >= 2, 10_000);
    const [g, b] = jobs();
    expect(sup.status()[0]!.state).toBe('running');
    expect(g).toMatchObject({ name: 'good', outcome: 'ok', schedule: '* * * * * *' });
    expect(g!.message).toMatch(/^run \d+$/);
    expect(b).toMatchObject({ name: 'bad', outcome: 'failed', message: 'disk on fire', running: false });
    expect(typeof b!.durationMs).toBe('number');
    expect(Date.parse(b!.nextRun!)).toBeGreaterThan(Date.parse(b!.lastRun!));
  });

  it('runs a seconds schedule, never two runs of a job at once, and stop waits for a running job', async () => {
    const logs: { msg: string; job?: string }[] = [];
    const log = pino({ level: 'debug' }, { write: (line: string) => void logs.push(JSON.parse(line) as { msg: string }) });
    const controller = new AbortController();
    const starts: number[] = [];
    let active = 0;
    let mostAtOnce = 0;
    let release: () => void = () => {};
    let gate: Promise<void> | null = null;
    const handle = await jobsChild([
      {
        name: 'slow',
        schedule: '*/1 * * * * *',
        run: async () => {
          starts.push(Date.now());
          mostAtOnce = Math.max(mostAtOnce, ++active);
          try {
            if (gate) await gate; // ignores the abort signal on purpose: stop must wait for it
          } finally {
            active--;
          }
          return 'done';
        },
      },
    ]).start({ crash: (err) => { throw err; }, signal: controller.signal, log });
    const status = () => (handle.status!().jobs as JobStatus[])[0]!;
    let stopped = false;
    try {
      await waitFor('three runs', () => starts.length >= 3);
      // The next slot is a whole second after the last run (which slots run: planWake's tests).
      const s = status();
      expect(Date.parse(s.nextRun!) % 1000).toBe(0);
      expect(Date.parse(s.nextRun!)).toBeGreaterThan(Date.parse(s.lastRun!));

      // A run that outlasts two more slots: they are skipped, not started alongside.
      gate = new Promise<void>((r) => (release = r));
      const held = starts.length + 1;
      await waitFor('a held run', () => starts.length === held && active === 1);
      await waitFor('two skipped slots', () => logs.filter((l) => l.msg === 'still running; this run is skipped').length >= 2);
      expect(starts.length).toBe(held);
      expect(status()).toMatchObject({ running: true });

      // stop() waits for the held run; no run starts after it.
      const stopping = handle.stop().then(() => (stopped = true));
      controller.abort(new Error('stopped'));
      await new Promise((r) => setTimeout(r, 1500));
      expect(stopped).toBe(false);
      release();
      await stopping;
      expect(status()).toMatchObject({ running: false, outcome: 'ok', message: 'done' });
      const after = starts.length;
      await new Promise((r) => setTimeout(r, 1500));
      expect(starts.length).toBe(after);
      expect(mostAtOnce).toBe(1);
    } finally {
      release();
      if (!stopped) await handle.stop();
    }
  });

  it('a daemon shows its jobs in the control status and in sundial status; a bad cron expression is refused naming the key', async () => {
    const dir = tmp();
    const d = await startInProcess(dir);
    cleanups.push(() => d.stop());
    const jobs = (d.status().children as { name: string; info: { jobs?: JobStatus[] } }[]).find((c) => c.name === 'jobs')!.info.jobs!;
    expect(jobs.map((j) => j.name)).toEqual(['backup', 'optimize', 'prune_logs']);
    for (const j of jobs) expect(Date.parse(j.nextRun!)).toBeGreaterThan(Date.now());
    const s = await runCli(['status', '--testing', '--port', String(d.port), '--data-dir', dir]);
    expect(s.stdout).toMatch(/^ {2}jobs\s+running/m);
    expect(s.stdout).toMatch(/^ {4}backup\s+not run yet; next /m);
    expect(() => parseConfig({ jobs: { backup: { schedule: 'every night' } } }, false, 'config.toml')).toThrow(/'jobs\.backup\.schedule' is not a valid cron expression/);
  });
});

describe('sundial backup now / restore', () => {
  it('backs up, refuses to restore while the daemon runs, refuses a damaged file, restores and keeps the old database aside', async () => {
    const dir = tmp();
    const { p, port } = await spawnRunning(dir, cleanups);
    const json = { 'content-type': 'application/json' };
    const base = `http://127.0.0.1:${port}/api/0`;
    await fetch(`${base}/buckets/keep`, { method: 'POST', headers: json, body: JSON.stringify({ client: 'c', type: 't', hostname: 'h' }) });
    await fetch(`${base}/buckets/keep/events`, { method: 'POST', headers: json, body: JSON.stringify([{ timestamp: '2024-06-01T08:00:00Z', duration: 5, data: { a: 1 } }]) });
    const flags = ['--testing', '--data-dir', dir];
    const b = await runCli(['backup', 'now', ...flags]);
    expect(b.code).toBe(0);
    const backup = /backed up to (\S+)/.exec(b.stdout)![1]!;
    expect(path.dirname(backup)).toBe(path.join(dir, 'backups-testing'));

    const busy = await runCli(['restore', backup, ...flags]);
    expect(busy.code).toBe(1);
    expect(busy.stderr).toMatch(new RegExp(`daemon \\(pid ${p.pid}, port ${port}\\) is using`));

    // After the backup: more data, which the restore takes back.
    await fetch(`${base}/buckets/later`, { method: 'POST', headers: json, body: JSON.stringify({ client: 'c', type: 't', hostname: 'h' }) });
    p.kill('SIGTERM');
    await new Promise((r) => p.on('exit', r));
    const db = path.join(dir, 'sqlite-testing.db');
    const before = fs.readFileSync(db);

    const truncated = path.join(dir, 'truncated.db');
    fs.writeFileSync(truncated, fs.readFileSync(backup).subarray(0, 4096 + 100));
    const foreign = path.join(dir, 'foreign.db');
    new Database(foreign).exec('CREATE TABLE t (x); INSERT INTO t VALUES (1)');
    const text = path.join(dir, 'notes.txt');
    fs.writeFileSync(text, 'hello '.repeat(1000));
    for (const [file, msg] of [
      [truncated, /is damaged|is not a SQLite database|cannot be opened/],
      [foreign, /is not a Sundial database/],
      [text, /is not a SQLite database/],
      [path.join(dir, 'missing.db'), /does not exist/],
    ] as const) {
      const r = await runCli(['restore', file, ...flags]);
      expect(r.code, file).toBe(1);
      expect(r.stderr.trim().split('\n'), file).toHaveLength(1);
      expect(r.stderr).toMatch(msg);
      expect(fs.readFileSync(db).equals(before), file).toBe(true);
    }

    // A missing source is refused before anything is created: no data dir appears for it.
    const fresh = path.join(dir, 'never-made');
    const none = await runCli(['restore', path.join(dir, 'missing.db'), '--testing', '--data-dir', fresh]);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/does not exist/);
    expect(fs.existsSync(fresh)).toBe(false);

    const ok = await runCli(['restore', backup, ...flags]);
    expect(ok.code).toBe(0);
    const aside = /replaced database is at (\S+)/.exec(ok.stdout)![1]!;
    expect(fs.readFileSync(aside).equals(before)).toBe(true);
    expect(fs.statSync(db).mode & 0o777).toBe(0o600);
    const names = (f: string) => {
      const c = openReadonly(f);
      try {
        return (c.prepare('SELECT name FROM buckets ORDER BY name').all() as { name: string }[]).map((r) => r.name);
      } finally {
        c.close();
      }
    };
    expect(names(db)).toEqual(['keep']);
    expect(names(aside)).toEqual(['keep', 'later']);
    expect(eventRows(db)).toEqual([{ name: 'keep', starttime: parseTimestamp('2024-06-01T08:00:00Z'), endtime: parseTimestamp('2024-06-01T08:00:05Z'), data: '{"a":1}' }]);
  });
});
