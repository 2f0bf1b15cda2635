import { releaseYoungGeneration } from './young-generation.js';
import { startLoadingDaemonConfig } from './cli/context.js';
import { exitCode } from './model/errors.js';
import { holdOptimizer } from './optimizer.js';

// Only the daemon (`start`) holds its young generation small through start-up. Its config is
// validated in a child process (config/load-apart.ts), started here to run beside the loading of the rest.
if (process.argv[2] === 'start') {
  // Until the daemon gets work that needs it (optimizer.ts).
  holdOptimizer();
  startLoadingDaemonConfig(process.argv.slice(3));
} else releaseYoungGeneration();
const { main } = await import('./cli/main.js');

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (err: unknown) => {
    // Our own bug: keep the stack.
    console.error(err);
    process.exit(exitCode(err));
  },
);
