import v8 from 'node:v8';

/**
 * V8's compilers above its interpreter (TurboFan, and Sparkplug's baseline code), held off while
 * the daemon has only light work. TurboFan's code is ≈ 4 MB of the node binary, resident from the
 * first function it compiles; at start that was module loading (ESM resolution, the CommonJS
 * lexer) and the X11 setup reply, code that is not hot again, and at rest the built-in watchers
 * never make anything hot enough (a 60 s trace: one compile). Sparkplug adds ≈ 1.5 MB (its code
 * and its compiler's pages). So `sundial start` holds both (cli.ts) and releases them for good at
 * the first work that wants speed: an HTTP request (REST clients, the web UI, its query workers)
 * or a busy writer (imports, sync, a plugin's burst). Until then code runs in V8's interpreter;
 * idle CPU stays within the noise (docs/performance.md, "Fifth session"). The flags are
 * process-wide and read at every tier-up decision, so a release takes effect at once, in the
 * query worker threads too.
 */
let held = false;

export function holdOptimizer(): void {
  held = true;
  v8.setFlagsFromString('--no-turbofan');
  v8.setFlagsFromString('--no-sparkplug');
}

export function releaseOptimizer(): void {
  if (!held) return;
  held = false;
  v8.setFlagsFromString('--turbofan');
  v8.setFlagsFromString('--sparkplug');
}
