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
