import { checkSettingKey } from '../../model/settings.js';
import { drain, readJson, requireJson } from '../body.js';
import { sendEmpty, sendJson } from '../respond.js';
import type { Ctx } from './context.js';

export function allSettings(ctx: Ctx): void {
  sendJson(ctx.res, 200, ctx.deps.reader.settings());
}

/** An unset key is 200 with `null` (what the web UI expects). */
export function getSetting(ctx: Ctx, key: string): void {
  checkSettingKey(key);
  const v = ctx.deps.reader.setting(key);
  sendJson(ctx.res, 200, v === undefined ? null : v);
}

export async function setSetting(ctx: Ctx, key: string): Promise<void> {
  checkSettingKey(key);
  requireJson(ctx.req);
  const value = await readJson(ctx.req);
  await ctx.deps.writer.submit({ kind: 'setSetting', key, value });
  sendEmpty(ctx.res, 201);
}

export async function deleteSetting(ctx: Ctx, key: string): Promise<void> {
  checkSettingKey(key);
  await drain(ctx.req);
  await ctx.deps.writer.submit({ kind: 'deleteSetting', key });
  sendEmpty(ctx.res, 200);
}
