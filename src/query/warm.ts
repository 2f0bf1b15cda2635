import { formatTimestamp, parseTimestamp } from '../model/time.js';
import { activityQuery, browserBucketsOf } from './webui.js';

/**
 * The request a query service runs once per worker at start: the web UI's activity query for the
 * window and AFK buckets of each host (so its transforms are compiled and its events cached), and
 * query_bucket for every other bucket, over `timeperiod`.
 */
export function warmUpRequest(buckets: { id: string; type: string; hostname: string }[], timeperiod: string): unknown {
  if (buckets.length === 0) return null;
  const query: string[] = [];
  const covered = new Set<string>();
  for (const host of new Set(buckets.map((b) => b.hostname))) {
    const mine = buckets.filter((b) => b.hostname === host);
    const win = mine.find((b) => b.type === 'currentwindow' && !b.id.startsWith('aw-watcher-android'));
    const afk = mine.find((b) => b.type === 'afkstatus');
    if (!win || !afk) continue;
    const browserBuckets = browserBucketsOf(buckets);
    // Each host's program ends in RETURN; keep its statements but rename RETURN so one request holds all.
    query.push(...activityQuery({ windowBucket: win.id, afkBucket: afk.id, browserBuckets }).map((s) => s.replace(/\bRETURN\s*=/, `r_${covered.size} =`)));
    covered.add(win.id).add(afk.id);
    Object.values(browserBuckets).forEach((id) => covered.add(id));
  }
  buckets.filter((b) => !covered.has(b.id)).forEach((b, i) => query.push(`q_${i} = query_bucket(${JSON.stringify(b.id)});`));
  query.push('RETURN = 0;');
  return { timeperiods: [timeperiod], query };
}

const DAY_US = 86_400_000_000;
/** Days of events one fill step reads: small enough that a query arriving meanwhile waits little. */
const FILL_STEP_DAYS = 10;

/**
 * The warm-up as small steps, run one after another (see `warmUp` in service.ts): first the activity
 * query over the last day of `timeperiod` (the web UI's default view: its events cached and the
 * transforms compiled on a small input), then every bucket's events of the period read into the
 * cache, newest days first, FILL_STEP_DAYS at a time, then the activity query over the whole period
 * once more. A question arriving between steps goes
 * first, so a long warm-up never holds up the first view.
 */
export function warmUpSteps(buckets: { id: string; type: string; hostname: string }[], timeperiod: string): unknown[] | null {
  if (buckets.length === 0) return null;
  const [a, b] = timeperiod.split('/');
  const start = parseTimestamp(a!, 'warm-up start'), end = parseTimestamp(b!, 'warm-up end');
  const period = (lo: number, hi: number) => `${formatTimestamp(lo)}/${formatTimestamp(hi)}`;
  const steps = [warmUpRequest(buckets, period(Math.max(start, end - 2 * DAY_US), end))];
  const fill = buckets.map((x, i) => `q_${i} = query_bucket(${JSON.stringify(x.id)});`).concat('RETURN = 0;');
  for (let hi = end; hi > start; hi -= FILL_STEP_DAYS * DAY_US) {
    steps.push({ timeperiods: [period(Math.max(start, hi - FILL_STEP_DAYS * DAY_US), hi)], query: fill });
  }
  // Last, the activity query over the whole period, from the now cached events: its transforms run
  // hot once on a month's input, so V8 has optimized them before the first real question.
  steps.push(warmUpRequest(buckets, timeperiod));
  return steps;
}
