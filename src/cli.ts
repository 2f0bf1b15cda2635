import { main } from './cli/main.js';
import { exitCode } from './model/errors.js';

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
