import { SundialError } from '../../model/errors.js';
import { drain, readJson, requireJson } from '../body.js';
import { sendJsonText, sendMessage } from '../respond.js';
import type { Ctx } from './context.js';

/** POST /api/0/query/: delegated to the query service; its errors keep their status and message. */
export async function runQuery(ctx: Ctx): Promise<void> {
  requireJson(ctx.req);
  const svc = ctx.deps.query;
  if (!svc) {
    await drain(ctx.req);
    sendMessage(ctx.res, 501, 'query engine not available');
    return;
  }
  const body = await readJson(ctx.req);
  let result: string;
  try {
    result = await svc.runJson(body);
  } catch (err) {
    if (err instanceof SundialError) throw err;
    // Unclassified engine failure: the web UI shows `message`, so keep it.
    ctx.deps.log.warn({ err }, 'query failed');
    sendMessage(ctx.res, 500, err instanceof Error ? err.message : String(err));
    return;
  }
  sendJsonText(ctx.res, 200, result);
}
