import { toWire } from '../model/errors.js';
import { loadConfig, type LoadOptions } from './config.js';

// Child process of load-apart.ts: the options as its argument, one answer as JSON on stdout, then it
// exits (zod and everything it allocated go with the process).
let answer: unknown;
try {
  const loaded = loadConfig(JSON.parse(process.argv[2]!) as LoadOptions);
  answer = { loaded: { ...loaded, fromFile: [...loaded.fromFile] } };
} catch (err) {
  answer = { error: toWire(err), stack: err instanceof Error ? err.stack : undefined };
}
process.stdout.write(JSON.stringify(answer));
