// Shared by the benchmarks that run a server in a forked child: request/answer over the IPC channel.
import { fork } from 'node:child_process';

/**
 * Forks `script` with `args`; resolves once the child sent its first message ({port}) with
 * { pid, port, call(msg) → the child's next answer, stop() → sends {cmd: stopCmd}, resolves at exit }.
 */
export function forkServer(script, args, { execArgv = [], stopCmd = 'exit' } = {}) {
  const child = fork(script, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv });
  const queue = [];
  child.on('message', (m) => queue.shift()?.(m));
  const next = () => new Promise((resolve) => queue.push(resolve));
  const call = (msg) => {
    const p = next();
    child.send(msg);
    return p;
  };
  const stop = () => {
    child.send({ cmd: stopCmd });
    return new Promise((r) => child.on('exit', r));
  };
  return next().then(({ port }) => ({ pid: child.pid, port, call, stop }));
}
