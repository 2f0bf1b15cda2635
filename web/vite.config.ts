import { fileURLToPath } from 'node:url';
import preact from '@preact/preset-vite';
import { defineConfig, type Plugin } from 'vite';

// The daemon serves dist/web at `/` (src/http/ui/static.ts); hashed files go under assets/.
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  plugins: [preact(), preloadChunks(['echarts'])],
  logLevel: 'warn',
  build: {
    outDir: fileURLToPath(new URL('../dist/web', import.meta.url)),
    emptyOutDir: true,
    assetsDir: 'assets',
    chunkSizeWarningLimit: 1200,
  },
});

/**
 * Adds `<link rel="modulepreload">` for the named lazily imported chunks to index.html, so the
 * browser fetches and compiles them alongside the app instead of only when they are imported.
 */
function preloadChunks(names: string[]): Plugin {
  return {
    name: 'sundial-preload-chunks',
    apply: 'build',
    transformIndexHtml: {
      order: 'post',
      handler(_html, ctx) {
        const chunks = Object.values(ctx.bundle ?? {}).filter((c) => c.type === 'chunk' && names.includes(c.name));
        return chunks.map((c) => ({ tag: 'link', attrs: { rel: 'modulepreload', crossorigin: true, href: `/${c.fileName}` }, injectTo: 'head' }));
      },
    },
  };
}
