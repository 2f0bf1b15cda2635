import fs from 'node:fs';
import path from 'node:path';
import pino from 'pino';

export type Logger = pino.Logger;

/**
 * Structured logs: JSON lines to `<dataDir>/logs/sundial.log` (0600), and readable lines on a
 * terminal. Quiet by default (info and up, mostly state changes); `verbose` turns on debug.
 */
export function createLogger(opts: { verbose?: boolean; file?: string; pretty?: boolean } = {}): Logger {
  const level = opts.verbose ? 'debug' : 'info';
  const streams: pino.StreamEntry[] = [];
  if (opts.file) {
    fs.mkdirSync(path.dirname(opts.file), { recursive: true, mode: 0o700 });
    const fd = fs.openSync(opts.file, 'a', 0o600);
    streams.push({ level, stream: pino.destination({ fd, sync: false }) });
  }
  if (opts.pretty ?? process.stderr.isTTY) {
    streams.push({ level, stream: pino.transport({ target: 'pino-pretty', options: { destination: 2, ignore: 'pid,hostname' } }) });
  } else if (!opts.file) {
    streams.push({ level, stream: pino.destination({ fd: 2, sync: false }) });
  }
  return pino({ level, base: undefined }, pino.multistream(streams));
}

/** A logger that drops everything (tests, library use). */
export const silentLogger = (): Logger => pino({ level: 'silent' });
