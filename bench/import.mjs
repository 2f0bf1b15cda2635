// Import benchmark: a 1M-event aw-server-rust database into a fresh data dir, daemon stopped.
// Run: npm run bench:import. Env: BENCH_IMPORT_EVENTS (default 1000000).
// The import runs in a child process so that its peak RSS is its own.
import { fork } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const SELF = fileURLToPath(import.meta.url);

if (process.argv[2] === '--child') {
  const { main } = await import('../dist/cli/main.js');
  const started = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  const code = await main(process.argv.slice(3));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  // CPU time of the whole process (all threads): a figure that does not depend on how
  // busy the rest of the machine is.
  const cpu = process.cpuUsage(cpu0);
  process.send({ code, seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, maxRssKb: process.resourceUsage().maxRSS });
  process.exit(code);
}

const N = Number(process.env.BENCH_IMPORT_EVENTS ?? 1_000_000);
const { default: Database } = await import('better-sqlite3');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sundial-bench-import-'));
try {
  const src = path.join(dir, 'sqlite.db');
  const t0 = Date.now();
  const db = new Database(src);
  db.exec(`
    CREATE TABLE buckets (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT UNIQUE NOT NULL, type TEXT NOT NULL, client TEXT NOT NULL,
      hostname TEXT NOT NULL, created TEXT NOT NULL, data_deprecated TEXT, data TEXT NOT NULL DEFAULT '{}');
    CREATE TABLE events (id INTEGER PRIMARY KEY AUTOINCREMENT, bucketrow INTEGER NOT NULL, starttime INTEGER NOT NULL, endtime INTEGER NOT NULL, data TEXT NOT NULL);
    CREATE INDEX events_bucketrow_starttime_endtime ON events(bucketrow, starttime DESC, endtime);
    PRAGMA user_version = 5;`);
  const buckets = [
    ['aw-watcher-window_bench', 'currentwindow', 0.6],
    ['aw-watcher-afk_bench', 'afkstatus', 0.2],
    ['aw-watcher-web-firefox', 'web.tab.current', 0.15],
    ['aw-watcher-vim_bench', 'app.editor.activity', 0.05],
  ];
  const insB = db.prepare("INSERT INTO buckets (name, type, client, hostname, created) VALUES (?, ?, 'bench', 'bench', '2020-01-01T00:00:00Z')");
  const insE = db.prepare('INSERT INTO events (bucketrow, starttime, endtime, data) VALUES (?, ?, ?, ?)');
  db.transaction(() => {
    for (const [name, type, share] of buckets) {
      const row = insB.run(name, type).lastInsertRowid;
      const n = Math.round(N * share);
      for (let i = 0; i < n; i++) {
        const start = 1_600_000_000_000_000_000n + BigInt(i) * 3_000_000_000n;
        const data =
          type === 'afkstatus' ? { status: i % 2 ? 'afk' : 'not-afk' } : type === 'currentwindow' ? { app: `app-${i % 40}`, title: `Document ${i % 5000} — Editor` } : { url: `https://example.org/page/${i % 9000}`, title: `Page ${i % 9000}`, audible: false, incognito: false, tabCount: 7 };
        insE.run(row, start, start + BigInt(1 + (i % 60)) * 1_000_000_000n, JSON.stringify(data));
      }
    }
  })();
  const total = db.prepare('SELECT count(*) AS n FROM events').get().n;
  db.close();
  console.log(`source: ${total} events in ${buckets.length} buckets, ${(fs.statSync(src).size / 1e6).toFixed(0)} MB (built in ${((Date.now() - t0) / 1000).toFixed(1)} s)`);

  const run = (args) =>
    new Promise((resolve, reject) => {
      const child = fork(SELF, ['--child', ...args], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
      let result = null;
      child.on('message', (m) => (result = m));
      child.on('exit', (code) => (result ? resolve(result) : reject(new Error(`import exited ${code}`))));
    });
  const data = path.join(dir, 'data');
  const first = await run(['import', 'activitywatch', '--db', src, '--testing', '--data-dir', data]);
  console.log(`load average before the import: ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} CPUs`);
  console.log(`import:    ${Math.round(total / first.seconds).toLocaleString()} events/s (${first.seconds.toFixed(1)} s wall, ${first.cpuSeconds.toFixed(1)} s CPU over both threads), peak RSS ${(first.maxRssKb / 1024).toFixed(0)} MB   [goals: >= 50,000 events/s, <= 200 MB]`);
  const again = await run(['import', 'activitywatch', '--db', src, '--testing', '--data-dir', data]);
  console.log(`re-import: ${Math.round(total / again.seconds).toLocaleString()} events/s (${again.seconds.toFixed(1)} s wall, ${again.cpuSeconds.toFixed(1)} s CPU; adds nothing), peak RSS ${(again.maxRssKb / 1024).toFixed(0)} MB`);
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
