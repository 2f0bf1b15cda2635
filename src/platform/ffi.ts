import { createRequire } from 'node:module';
import { isMainThread } from 'node:worker_threads';
import type * as FfiRs from 'ffi-rs';
import { ProbeUnavailableError } from './types.js';

export type Ffi = typeof FfiRs;

let ffi: Ffi | null = null;

/**
 * Loads ffi-rs on first use. Only on the main thread: ffi-rs crashes the process when it is first
 * loaded inside a worker, so nothing a worker imports may pull it in at module top level.
 */
export function loadFfi(): Ffi {
  if (ffi) return ffi;
  if (!isMainThread) throw new ProbeUnavailableError('native probes can only be loaded on the main thread');
  try {
    ffi = createRequire(import.meta.url)('ffi-rs') as Ffi;
  } catch (err) {
    throw new ProbeUnavailableError(`ffi-rs cannot be loaded: ${(err as Error).message}`);
  }
  return ffi;
}
