import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { fromWire, type WireError } from '../model/errors.js';
import { workerEntry } from '../worker-entry.js';
import type { LoadedConfig, LoadOptions } from './config.js';

type Answer = { loaded: Omit<LoadedConfig, 'fromFile'> & { fromFile: string[] } } | { error: WireError; stack?: string };

/**
 * loadConfig in a process of its own, for the daemon: the validator (zod and the schema, a few MB of
 * heap and source text) is needed once at start, and a module loaded here is never unloaded. A
 * worker thread did this before, but its C-allocator arena (≈ 2–3 MB) stayed mapped in the daemon
 * after it ended; a process takes everything with it. Fails as loadConfig would (a StartupError
 * with the same message).
 */
export function loadConfigApart(opts: LoadOptions): Promise<LoadedConfig> {
  if (early?.key === keyOf(opts)) {
    const { answer } = early;
    early = null;
    return answer;
  }
  return inChild(opts);
}

const keyOf = (opts: LoadOptions): string => JSON.stringify([opts.file, opts.explicit, opts.testing]);
let early: { key: string; answer: Promise<LoadedConfig> } | null = null;

/**
 * Starts loadConfigApart now, for the next call with the same options to take: the daemon starts it
 * before its own modules load (cli.ts), so that the child's start-up and zod's loading run beside them.
 */
export function startLoadingConfigApart(opts: LoadOptions): void {
  const answer = inChild(opts);
  // Reported when taken; until then a failure must not count as an unhandled rejection.
  answer.catch(() => {});
  early = { key: keyOf(opts), answer };
}

function inChild(opts: LoadOptions): Promise<LoadedConfig> {
  const child = spawn(process.execPath, [fileURLToPath(workerEntry('config/load-child.js')), JSON.stringify(opts)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (err += s));
  return new Promise<LoadedConfig>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      let reply: Answer;
      try {
        reply = JSON.parse(out) as Answer;
      } catch {
        reject(new Error(`config loader ended (${signal ?? `exit code ${code}`}) without an answer${err ? `: ${err.trim()}` : ''}`));
        return;
      }
      if ('loaded' in reply) resolve({ ...reply.loaded, fromFile: new Set(reply.loaded.fromFile) });
      else {
        const e = fromWire(reply.error);
        // Our own bug in there: keep its stack for the report.
        if (reply.error.kind === 'bug' && reply.stack) e.stack = reply.stack;
        reject(e);
      }
    });
  });
}
