// Ingest benchmark for the REST API. Run: npm run build && node bench/ingest.mjs  (npm run bench:ingest)
// Servers run in child processes (so their RSS is their own); the load generator runs here.
// Env: BENCH_SECONDS (per server and client count, default 5), BENCH_SLICES (alternations of the two servers within that, default 5), BENCH_CLIENTS (client counts, default "8,16"), BENCH_EXPORT_EVENTS (default 1000000),
// BENCH_PARTS (default "ingest,list,export": which parts run), BENCH_CPU_PROF=<dir> (cpu profiles of the server children, every thread).
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { forkServer } from './ipc.mjs';

const SELF = fileURLToPath(import.meta.url);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CLIENT_COUNTS = (process.env.BENCH_CLIENTS ?? '8,16').split(',').map(Number);
const EXPORT_EVENTS = Number(process.env.BENCH_EXPORT_EVENTS ?? 1_000_000);
/** Each server's SECONDS are run in this many slices, alternating with the other server's. */
const SLICES = Math.max(1, Number(process.env.BENCH_SLICES ?? 5));
const PARTS = new Set((process.env.BENCH_PARTS ?? 'ingest,list,export').split(','));

/**
 * CPU time this process's threads have used so far, in µs: the main thread and all others (for
 * Sundial mostly libuv's pool, which syncs the WAL). Linux: per-thread from /proc; elsewhere the total only.
 */
function threadCpu() {
  try {
    let main = 0, other = 0;
    for (const tid of fs.readdirSync('/proc/self/task')) {
      const ns = Number(fs.readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
      if (Number(tid) === process.pid) main += ns / 1000;
      else other += ns / 1000;
    }
    return { main, other };
  } catch {
    const u = process.cpuUsage();
    return { main: u.user + u.system, other: 0 };
  }
}

// ---------------------------------------------------------------- child: a server
if (process.argv[2] === '--serve') {
  const kind = process.argv[3];
  let rssPeak = 0;
  let sampler = null;
  const sample = () => (rssPeak = Math.max(rssPeak, process.memoryUsage().rss));
  let ctx = {};
  if (kind === 'bare') {
    const server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': 2 });
        res.end('{}');
      });
    });
    server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
  } else {
    const file = process.argv[4];
    const { createHttpServer } = await import('../dist/http/server.js');
    const { openStorageWriter } = await import('../dist/actors/storage-writer/writer.js');
    const { openReadonly } = await import('../dist/storage/open.js');
    const { Reader } = await import('../dist/storage/read.js');
    const { silentLogger } = await import('../dist/log.js');
    const writer = await openStorageWriter(file, { log: silentLogger() });
    const reader = new Reader(openReadonly(file));
    const srv = createHttpServer({
      host: '127.0.0.1', port: 0, testing: false, reader, writer, log: silentLogger(),
      info: { hostname: os.hostname(), version: 'v0.1.0 (bench)', deviceId: 'bench' },
    });
    ctx = { writer };
    process.send({ port: await srv.listen() });
  }
  // If the parent dies (Ctrl-C, a closed pipe), do not linger.
  process.on('disconnect', () => process.exit(0));
  process.on('message', async (m) => {
    if (m.cmd === 'sampleStart') {
      rssPeak = 0;
      sample();
      sampler = setInterval(sample, 5);
      process.send({ rssBefore: process.memoryUsage().rss });
    } else if (m.cmd === 'sampleStop') {
      clearInterval(sampler);
      sample();
      process.send({ rssPeak, rssNow: process.memoryUsage().rss });
    } else if (m.cmd === 'fill') {
      // Bulk-load events straight through the writer (setup for the export benchmark, not measured).
      await ctx.writer.submit({ kind: 'createBucket', bucket: { id: m.bucket, type: 'currentwindow', client: 'bench', hostname: 'h', created: 0, data: {} } });
      const t0 = Date.UTC(2024, 0, 1) * 1000;
      for (let i = 0; i < m.n; i += 20_000) {
        const events = [];
        for (let j = i; j < Math.min(m.n, i + 20_000); j++) {
          events.push({ id: null, timestamp: t0 + j * 5_000_000, duration: 4_500_000, data: { app: `app${j % 17}`, title: `Window title number ${j % 1013}` } });
        }
        await ctx.writer.submit({ kind: 'insertEvents', bucket: m.bucket, events });
      }
      process.send({ ok: true });
    } else if (m.cmd === 'cpu') {
      process.send({ ...threadCpu(), writer: ctx.writer?.stats?.() });
    } else if (m.cmd === 'exit') {
      process.exit(0); // lets --cpu-prof write its file
    }
  });
} else {
  setImmediate(() => main().catch((err) => { console.error(err); process.exit(1); }));
}

// ---------------------------------------------------------------- parent: load generator
function startChild(args) {
  // BENCH_CPU_PROF=<dir>: write a CPU profile of each server child there.
  const execArgv = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
  return forkServer(SELF, ['--serve', ...args], { execArgv });
}

function request(agent, port, method, p, body, headers = {}) {
  return new Promise((resolve, reject) => {
    const h = { ...headers };
    if (body !== undefined) {
      h['Content-Type'] = 'application/json';
      h['Content-Length'] = Buffer.byteLength(body);
    }
    const r = http.request({ host: '127.0.0.1', port, method, path: p, agent, headers: h }, (res) => {
      let n = 0;
      const chunks = [];
      res.on('data', (c) => {
        n += c.length;
        if (n < 1 << 20) chunks.push(c);
      });
      res.on('end', () => resolve({ status: res.statusCode, bytes: n, text: n < 1 << 20 ? Buffer.concat(chunks).toString() : '' }));
      res.on('error', reject);
    });
    r.on('error', reject);
    if (body !== undefined) r.write(body);
    r.end();
  });
}

const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const mb = (b) => `${(b / 1024 / 1024).toFixed(0)} MB`;

/**
 * CLIENTS concurrent clients, each a keep-alive connection, a mix of heartbeats and inserts, against
 * one server. `run(seconds)` adds a slice of load (the clients carry on where the last slice ended,
 * so the mix stays the same); `report` prints the sums.
 */
function loadPhase(server, CLIENTS, round) {
  const port = server.port;
  const agent = new http.Agent({ keepAlive: true, maxSockets: CLIENTS });
  const clients = Array.from({ length: CLIENTS }, (_, c) => ({ c, i: 0, clock: Date.UTC(2024, 0, 1) + c * 1e9, title: 0 }));
  const acc = { ok: 0, bad: 0, secs: 0, lat: [], main: 0, other: 0, ops: 0, batches: 0 };
  let created = null;
  return {
    async run(seconds) {
      created ??= (async () => {
        for (const { c } of clients) {
          await request(agent, port, 'POST', `/api/0/buckets/bench-${round}-${c}`, JSON.stringify({ client: 'bench', type: 'currentwindow', hostname: 'h' }));
        }
      })();
      await created;
      const cpu0 = await server.call({ cmd: 'cpu' });
      const t0 = Date.now();
      const end = t0 + seconds * 1000;
      await Promise.all(clients.map(async (cl) => {
        while (Date.now() < end) {
          const k = cl.i++ % 10;
          let p, body;
          cl.clock += 1000;
          const ts = new Date(cl.clock).toISOString();
          if (k < 6) {
            // same data, 1 s later, pulsetime 2: merges into the last event
            p = `/api/0/buckets/bench-${round}-${cl.c}/heartbeat?pulsetime=2`;
            body = JSON.stringify({ timestamp: ts, duration: 0, data: { app: 'Editor', title: `file ${cl.title}` } });
          } else if (k < 8) {
            // new data: a new event
            cl.title++;
            p = `/api/0/buckets/bench-${round}-${cl.c}/heartbeat?pulsetime=2`;
            body = JSON.stringify({ timestamp: ts, duration: 0, data: { app: 'Editor', title: `file ${cl.title}` } });
          } else {
            p = `/api/0/buckets/bench-${round}-${cl.c}/events`;
            body = JSON.stringify([{ timestamp: ts, duration: 1, data: { label: 'manual', n: cl.i } }]);
          }
          const s = process.hrtime.bigint();
          const r = await request(agent, port, 'POST', p, body);
          acc.lat.push(Number(process.hrtime.bigint() - s) / 1e6);
          if (r.status === 200) acc.ok++;
          else acc.bad++;
        }
      }));
      acc.secs += (Date.now() - t0) / 1000;
      const cpu1 = await server.call({ cmd: 'cpu' });
      acc.main += cpu1.main - cpu0.main;
      acc.other += cpu1.other - cpu0.other;
      if (cpu1.writer) {
        acc.ops += cpu1.writer.ops - cpu0.writer.ops;
        acc.batches += cpu1.writer.batches - cpu0.writer.batches;
      }
    },
    report(label) {
      agent.destroy();
      const { ok, bad, lat } = acc;
      lat.sort((x, y) => x - y);
      const n = ok + bad;
      const rate = n / acc.secs;
      // Server CPU per request: on these shared cores it decides the ratio more than anything else.
      const perReq = (us) => (us / n).toFixed(0).padStart(3);
      const perCommit = acc.batches > 0 ? `, ${(acc.ops / acc.batches).toFixed(1)} ops/commit` : '';
      console.log(
        `${label.padEnd(28)} ${rate.toFixed(0).padStart(7)} req/s   p50 ${pct(lat, 50).toFixed(2)} ms   p99 ${pct(lat, 99).toFixed(2)} ms   ` +
          `server CPU/req ${perReq(acc.main)} µs main + ${perReq(acc.other)} µs other threads${perCommit}   (${ok} ok, ${bad} failed)`,
      );
      return { rate };
    },
  };
}

async function main() {
  if (!fs.existsSync(path.join(path.dirname(SELF), '../dist/http/server.js'))) {
    console.error('dist/ is missing: run `npx tsc -p .` first');
    process.exit(1);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sundial-bench-ingest-'));
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  try {
    console.log(
      `ingest: ${CLIENT_COUNTS.join(' and ')} keep-alive clients, ${SECONDS} s per server and client count in ${SLICES} alternated slices; ` +
        '60% merging heartbeats, 20% new-event heartbeats, 20% inserts',
    );
    // Both servers run in the same conditions: alternately, in short slices (the machine may be shared).
    const sd = await startChild(['sundial', path.join(dir, 'ingest.db')]);
    if (PARTS.has('ingest')) {
      const bare = await startChild(['bare']);
      for (const [round, n] of CLIENT_COUNTS.entries()) {
        const bareLoad = loadPhase(bare, n, round);
        const sdLoad = loadPhase(sd, n, round);
        for (let k = 0; k < SLICES; k++) {
          await bareLoad.run(SECONDS / SLICES);
          await sdLoad.run(SECONDS / SLICES);
        }
        const b = bareLoad.report(`bare node http {}, ${n} clients`);
        const s = sdLoad.report(`sundial (durable acks), ${n}`);
        const ratio = (100 * s.rate) / b.rate;
        console.log(`ratio sundial / bare at ${n} clients: ${ratio.toFixed(0)} %  (goal ≥ 70 %: ${ratio >= 70 ? 'met' : 'NOT met'})`);
      }
      await bare.stop();
    }
    if (!PARTS.has('list')) await sd.stop();
    else await list(sd);
    if (PARTS.has('export')) await exportImport(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function list(sd) {
  // Listing 10k events.
  const agent = new http.Agent({ keepAlive: true });
  await request(agent, sd.port, 'POST', '/api/0/buckets/list10k', JSON.stringify({ client: 'bench', type: 't', hostname: 'h' }));
  for (let i = 0; i < 10_000; i += 1000) {
    const evs = Array.from({ length: 1000 }, (_, j) => ({ timestamp: new Date(Date.UTC(2024, 0, 1) + (i + j) * 5000).toISOString(), duration: 4, data: { app: 'A', title: `t${i + j}` } }));
    await request(agent, sd.port, 'POST', '/api/0/buckets/list10k/events', JSON.stringify(evs));
  }
  const runs = [];
  for (let i = 0; i < 20; i++) {
    const t = process.hrtime.bigint();
    const r = await request(agent, sd.port, 'GET', '/api/0/buckets/list10k/events');
    runs.push(Number(process.hrtime.bigint() - t) / 1e6);
    if (r.status !== 200) throw new Error(`list: ${r.status}`);
  }
  runs.sort((a, b) => a - b);
  console.log(`list 10k events: median ${pct(runs, 50).toFixed(1)} ms, best ${runs[0].toFixed(1)} ms`);
  await sd.stop();
}

async function exportImport(dir) {
  // Export 1M events, then import that file into an empty database.
  const ex = await startChild(['sundial', path.join(dir, 'export.db')]);
  let t = Date.now();
  await ex.call({ cmd: 'fill', bucket: 'big', n: EXPORT_EVENTS });
  console.log(`(setup: ${EXPORT_EVENTS} events loaded through the writer in ${((Date.now() - t) / 1000).toFixed(1)} s)`);
  const exBase = await ex.call({ cmd: 'sampleStart' });
  t = Date.now();
  const exportFile = path.join(dir, 'export.json');
  await new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port: ex.port, path: '/api/0/export' }, (res) => {
      const out = fs.createWriteStream(exportFile);
      res.pipe(out);
      out.on('finish', resolve);
      res.on('error', reject);
    }).on('error', reject);
  });
  const exportSecs = (Date.now() - t) / 1000;
  const exMem = await ex.call({ cmd: 'sampleStop' });
  const size = fs.statSync(exportFile).size;
  console.log(`export ${EXPORT_EVENTS} events: ${exportSecs.toFixed(1)} s, ${mb(size)}, server RSS peak ${mb(exMem.rssPeak)} (before: ${mb(exBase.rssBefore)})`);
  await ex.stop();

  const im = await startChild(['sundial', path.join(dir, 'import.db')]);
  const imBase = await im.call({ cmd: 'sampleStart' });
  t = Date.now();
  const status = await new Promise((resolve, reject) => {
    const r = http.request({ host: '127.0.0.1', port: im.port, method: 'POST', path: '/api/0/import', headers: { 'Content-Type': 'application/json', 'Content-Length': size } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    r.on('error', reject);
    fs.createReadStream(exportFile).pipe(r);
  });
  const importSecs = (Date.now() - t) / 1000;
  const imMem = await im.call({ cmd: 'sampleStop' });
  const count = await request(undefined, im.port, 'GET', '/api/0/buckets/big/events/count');
  console.log(`import that file (${mb(size)}): ${status}, ${importSecs.toFixed(1)} s, ${count.text} events, server RSS peak ${mb(imMem.rssPeak)} (before: ${mb(imBase.rssBefore)})`);
  await im.stop();
}
