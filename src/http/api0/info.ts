import { sendJson } from '../respond.js';
import type { Ctx } from './context.js';

export function getInfo(ctx: Ctx): void {
  const { info, testing } = ctx.deps;
  sendJson(ctx.res, 200, { hostname: info.hostname, version: info.version, testing, device_id: info.deviceId });
}
