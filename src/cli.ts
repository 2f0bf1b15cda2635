import { releaseYoungGeneration } from './young-generation.js';
import { main } from './cli/main.js';
import { exitCode } from './model/errors.js';

// Only the daemon (`start`) holds its young generation small through start-up.
if (process.argv[2] !== 'start') releaseYoungGeneration();

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
