import { NotFound } from '../../model/errors.js';
import { createBucket, deleteBucket, getBucket, listBuckets, updateBucket } from './buckets.js';
import type { Ctx } from './context.js';
import { countEvents, deleteEvent, getEvent, heartbeat, insertEvents, listEvents } from './events.js';
import { exportAll, exportBucket } from './export.js';
import { importRoute } from './import.js';
import { getInfo } from './info.js';
import { getLog } from './log.js';
import { runQuery } from './query.js';
import { allSettings, deleteSetting, getSetting, setSetting } from './settings.js';

type Handler = (ctx: Ctx) => void | Promise<void>;

/**
 * Picks the handler for `/api/0/<rest...>` (segments already percent-decoded, empty ones dropped).
 * Unknown path or unsupported method → 404, as the reference server.
 */
export function route(method: string, rest: string[]): Handler | null {
  const [a, b, c, d, ...more] = rest;
  if (more.length > 0) return null;
  const m = (table: Partial<Record<string, Handler>>): Handler | null => table[method] ?? null;
  switch (a) {
    case 'info':
      return b === undefined ? m({ GET: getInfo }) : null;
    case 'export':
      return b === undefined ? m({ GET: exportAll }) : null;
    case 'log':
      return b === undefined ? m({ GET: getLog }) : null;
    case 'import':
      return b === undefined ? m({ POST: importRoute }) : null;
    case 'query':
      return b === undefined ? m({ POST: runQuery }) : null;
    case 'settings':
      if (c !== undefined) return null;
      if (b === undefined) return m({ GET: allSettings });
      return m({
        GET: (ctx) => getSetting(ctx, b),
        POST: (ctx) => setSetting(ctx, b),
        DELETE: (ctx) => deleteSetting(ctx, b),
      });
    case 'buckets': {
      if (b === undefined) return m({ GET: listBuckets });
      if (c === undefined) {
        return m({
          GET: (ctx) => getBucket(ctx, b),
          POST: (ctx) => createBucket(ctx, b),
          PUT: (ctx) => updateBucket(ctx, b),
          DELETE: (ctx) => deleteBucket(ctx, b),
        });
      }
      if (c === 'events') {
        if (d === undefined) return m({ GET: (ctx) => listEvents(ctx, b), POST: (ctx) => insertEvents(ctx, b) });
        if (d === 'count') return m({ GET: (ctx) => countEvents(ctx, b) });
        return m({ GET: (ctx) => getEvent(ctx, b, d), DELETE: (ctx) => deleteEvent(ctx, b, d) });
      }
      if (d !== undefined) return null;
      if (c === 'heartbeat') return m({ POST: (ctx) => heartbeat(ctx, b) });
      if (c === 'export') return m({ GET: (ctx) => exportBucket(ctx, b) });
      return null;
    }
    default:
      return null;
  }
}

export const noRoute = (method: string, path: string): NotFound => new NotFound(`no route for ${method} ${path}`);
