import fs from 'node:fs';
import { writePrivate } from './files.js';

/** What a running daemon tells the CLI about itself (`daemon.json` in the data dir). */
export interface Runtime {
  pid: number;
  /** The HTTP port once it listens. */
  port: number | null;
  /** The control socket (unix socket or Windows named pipe). */
  socket: string;
  version: string;
  startedAt: string;
}

export function writeRuntime(file: string, rt: Runtime): void {
  writePrivate(file, JSON.stringify(rt, null, 2) + '\n');
}

/** The last daemon's facts, or null when there are none (never started, or stopped cleanly). */
export function readRuntime(file: string): Runtime | null {
  try {
    const rt = JSON.parse(fs.readFileSync(file, 'utf8')) as Runtime;
    return typeof rt.pid === 'number' && typeof rt.socket === 'string' ? rt : null;
  } catch {
    return null;
  }
}

export function removeRuntime(file: string): void {
  fs.rmSync(file, { force: true });
}
