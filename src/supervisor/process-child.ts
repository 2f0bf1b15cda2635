import { spawn, type ChildProcess } from 'node:child_process';
import readline from 'node:readline';
import { DEFAULT_SHUTDOWN_TIMEOUT_MS, errorMessage } from './child-machine.js';
import type { ChildContext, ChildHandle, ChildSpec, RestartPolicy } from './types.js';
import { TIMEOUT, within } from './within.js';

export interface ProcessChildOptions {
  name: string;
  command: string;
  args?: string[];
  /** Added to (and overriding) the daemon's environment. */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Default `permanent`. */
  restart?: RestartPolicy;
  /** SIGTERM grace before SIGKILL on stop; default 5 s. */
  shutdownTimeoutMs?: number;
  /**
   * Resolves once the process is ready to serve (default: as soon as it has spawned). `signal`
   * aborts when the process exits first or the start is abandoned.
   */
  ready?: (child: ChildProcess, signal: AbortSignal) => Promise<void>;
  /** Called right after spawn, before `ready` (attach stdout parsers, ...). */
  onSpawn?: (child: ChildProcess, ctx: ChildContext) => void;
  /** Liveness check, run every `pingIntervalMs` once running. */
  ping?: (child: ChildProcess) => Promise<void>;
  pingIntervalMs?: number;
  pingTimeoutMs?: number;
  startTimeoutMs?: number;
  /** Level its stdout/stderr lines are logged at (default debug; plugins' output is their log: info). */
  outputLevel?: 'debug' | 'info';
}

/** After SIGKILL, how long to wait for the exit to be reaped before giving up. */
const REAP_TIMEOUT_MS = 2_000;

/**
 * Processes alive right now, across all supervisors. On a normal daemon exit they are stopped by
 * `supervisor.stop()` (the daemon's shutdown path must await it); this set is the last resort for
 * an exit that skipped it (uncaught exception, process.exit): SIGKILL synchronously in 'exit'.
 * Nothing can help against the daemon itself being SIGKILLed; children keep stdin as a pipe to
 * the daemon, so they may watch for EOF on it.
 */
const live = new Set<ChildProcess>();
let exitHookInstalled = false;
function track(child: ChildProcess): void {
  live.add(child);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const c of live) {
        try {
          c.kill('SIGKILL');
        } catch {
          /* already gone */
        }
      }
    });
  }
}

type Exit = { code: number | null; signal: NodeJS.Signals | null };

const describeExit = (e: Exit): string =>
  e.signal ? `killed by signal ${e.signal}` : `exited with code ${e.code}`;

/**
 * A supervised OS process. `start` spawns it (stdio piped; stdout and stderr lines logged at
 * debug) and resolves once `ready` does; an exit nobody asked for is reported as a crash (or as a
 * normal exit when the code is 0). `stop` sends SIGTERM, waits `shutdownTimeoutMs`, then SIGKILL;
 * `kill` sends SIGKILL at once. Both resolve once the process has been reaped.
 */
export function processChild(opts: ProcessChildOptions): ChildSpec {
  const shutdownTimeoutMs = opts.shutdownTimeoutMs ?? DEFAULT_SHUTDOWN_TIMEOUT_MS;
  const spec: ChildSpec = {
    name: opts.name,
    restart: opts.restart ?? 'permanent',
    shutdownTimeoutMs,
    start: (ctx) => startProcess(opts, shutdownTimeoutMs, ctx),
  };
  if (opts.pingIntervalMs !== undefined) spec.pingIntervalMs = opts.pingIntervalMs;
  if (opts.pingTimeoutMs !== undefined) spec.pingTimeoutMs = opts.pingTimeoutMs;
  if (opts.startTimeoutMs !== undefined) spec.startTimeoutMs = opts.startTimeoutMs;
  return spec;
}

async function startProcess(opts: ProcessChildOptions, shutdownTimeoutMs: number, ctx: ChildContext): Promise<ChildHandle> {
  const child = spawn(opts.command, opts.args ?? [], {
    cwd: opts.cwd,
    env: opts.env ? { ...process.env, ...opts.env } : process.env,
    stdio: ['pipe', 'pipe', 'pipe'],
    // Its own process group: a Ctrl-C or a signal to the daemon's group reaches the daemon only,
    // which then stops its children in order (a restart mid-shutdown would be wasted work).
    detached: process.platform !== 'win32',
  });

  // 'error' comes instead of 'spawn' when the binary is missing or not executable.
  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      child.off('spawn', onSpawn);
      const why = err.code === 'ENOENT' ? 'command not found' : err.code === 'EACCES' ? 'permission denied' : err.message;
      reject(new Error(`${opts.name}: cannot start "${opts.command}": ${why}`, { cause: err }));
    };
    const onSpawn = () => {
      child.off('error', onError);
      resolve();
    };
    child.once('error', onError);
    child.once('spawn', onSpawn);
  });

  const pid = child.pid!;
  track(child);
  const log = ctx.log.child({ pid });
  log.debug({ command: opts.command, args: opts.args }, 'process spawned');

  // Later errors (a failed kill, EPIPE on stdin) must not become uncaught exceptions.
  child.on('error', (err) => log.debug({ err: err.message }, 'process error'));
  child.stdin?.on('error', () => undefined);
  for (const [stream, name] of [
    [child.stdout, 'stdout'],
    [child.stderr, 'stderr'],
  ] as const) {
    if (!stream) continue;
    const level = opts.outputLevel ?? 'debug';
    readline.createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => log[level]({ stream: name }, line));
  }

  let expected = false; // set once we stop or kill it ourselves
  const exited = new Promise<Exit>((resolve) => {
    child.once('exit', (code, signal) => {
      live.delete(child);
      resolve({ code, signal });
    });
  });
  let exitInfo: Exit | null = null;
  void exited.then((e) => {
    exitInfo = e;
    log.debug({ code: e.code, signal: e.signal }, 'process exited');
    if (expected) return;
    if (e.code === 0 && !e.signal && ctx.exit) ctx.exit();
    else ctx.crash(new Error(`${opts.name}: process ${pid} ${describeExit(e)}`));
  });

  const signalProcess = (sig: NodeJS.Signals) => {
    if (exitInfo) return;
    try {
      child.kill(sig);
    } catch {
      /* already gone */
    }
  };
  const kill = async () => {
    expected = true;
    signalProcess('SIGKILL');
    await within(exited, REAP_TIMEOUT_MS);
  };

  try {
    opts.onSpawn?.(child, ctx);
    const notReady = new AbortController();
    const abortReady = () => notReady.abort(ctx.signal.reason);
    ctx.signal.addEventListener('abort', abortReady, { once: true });
    void exited.then((e) => notReady.abort(new Error(`${opts.name}: process ${describeExit(e)} before it was ready`)));
    try {
      if (ctx.signal.aborted) throw ctx.signal.reason;
      if (opts.ready) {
        const aborted = new Promise<never>((_, reject) => {
          notReady.signal.addEventListener('abort', () => reject(notReady.signal.reason), { once: true });
        });
        aborted.catch(() => undefined);
        await Promise.race([opts.ready(child, notReady.signal), aborted]);
      }
    } finally {
      ctx.signal.removeEventListener('abort', abortReady);
    }
    if (exitInfo) throw new Error(`${opts.name}: process ${describeExit(exitInfo)} before it was ready`);
  } catch (err) {
    // Never ready: the supervisor gets no handle, so the process must not outlive this start.
    await kill();
    throw err instanceof Error ? err : new Error(errorMessage(err));
  }

  const handle: ChildHandle = {
    pid,
    async stop() {
      expected = true;
      if (exitInfo) return;
      signalProcess('SIGTERM');
      if ((await within(exited, shutdownTimeoutMs)) !== TIMEOUT) return;
      log.warn({ timeoutMs: shutdownTimeoutMs }, 'process ignored SIGTERM; sending SIGKILL');
      await kill();
    },
    kill,
    status: () => ({ command: opts.command, ...(exitInfo ? { exit: describeExit(exitInfo) } : {}) }),
  };
  if (opts.ping) {
    const ping = opts.ping;
    handle.ping = () => ping(child);
  }
  return handle;
}
