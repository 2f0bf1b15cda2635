import v8 from 'node:v8';

/**
 * Keeps the main thread's young generation at its current size; the CLI entry (bin/sundial.js)
 * calls it before it loads the rest. While a daemon starts (modules, config, children), many
 * objects survive each scavenge and V8 doubles the young generation each time, to 16 MB that an
 * idle daemon does not use again; once the daemon runs, growth is released, so later bursts
 * (imports, queries, ingest) grow it as before. A size flag given after start-up would not do:
 * V8 reads `--max-semi-space-size` only when a heap is created, the growth factor at each growth.
 * (V8 raises the factor back to 2 when it creates another heap, such as a query worker thread's.)
 */
export function holdYoungGeneration(): void {
  v8.setFlagsFromString('--semi-space-growth-factor=1');
}

/** V8's default growth again (the CLI's other commands at once, the daemon once it runs). */
export function releaseYoungGeneration(): void {
  v8.setFlagsFromString('--semi-space-growth-factor=2');
}
