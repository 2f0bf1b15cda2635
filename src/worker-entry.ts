/**
 * The compiled file of a worker thread or helper process, `distPath` relative to dist/. Both always
 * run compiled JavaScript: from src (vitest) this is the copy in dist/ (run `npm run build` first).
 */
export function workerEntry(distPath: string): URL {
  const here = new URL(import.meta.url);
  if (here.pathname.endsWith('.ts')) return new URL(`../dist/${distPath}`, here);
  return new URL(`./${distPath}`, here);
}
