/**
 * The web UI's activity-view query (ActivityWatch's canonical events and activity summary), built the
 * way that UI builds it. Used by Sundial's own web UI (web/), the warm-up, the benchmark and the
 * end-to-end tests; also a reference for what the engine must handle. Plain TypeScript with no
 * imports, so the browser bundle can use it too.
 */

export type CategoryRule = [string[], { type: 'regex' | 'none'; regex?: string; ignore_case?: boolean }];

/** The UI's built-in default categories. */
export const DEFAULT_CATEGORIES: CategoryRule[] = [
  [['Work'], { type: 'regex', regex: 'Google Docs|libreoffice|ReText' }],
  [['Work', 'Programming'], { type: 'regex', regex: 'GitHub|Stack Overflow|BitBucket|Gitlab|vim|Spyder|kate|Ghidra|Scite' }],
  [['Work', 'Programming', 'ActivityWatch'], { type: 'regex', regex: 'ActivityWatch|aw-', ignore_case: true }],
  [['Work', 'Image'], { type: 'regex', regex: 'GIMP|Inkscape' }],
  [['Work', 'Video'], { type: 'regex', regex: 'Kdenlive' }],
  [['Work', 'Audio'], { type: 'regex', regex: 'Audacity' }],
  [['Work', '3D'], { type: 'regex', regex: 'Blender' }],
  [['Media'], { type: 'none' }],
  [['Media', 'Games'], { type: 'regex', regex: 'Minecraft|RimWorld' }],
  [['Media', 'Video'], { type: 'regex', regex: 'YouTube|Plex|VLC' }],
  [['Media', 'Social Media'], { type: 'regex', regex: 'reddit|Facebook|Twitter|Instagram|devRant', ignore_case: true }],
  [['Media', 'Music'], { type: 'regex', regex: 'Spotify|Deezer', ignore_case: true }],
  [['Comms'], { type: 'none' }],
  [['Comms', 'IM'], { type: 'regex', regex: 'Messenger|Telegram|Signal|WhatsApp|Rambox|Slack|Riot|Element|Discord|Nheko|NeoChat|Mattermost' }],
  [['Comms', 'Email'], { type: 'regex', regex: 'Gmail|Thunderbird|mutt|alpine' }],
];

/** Exact app ids and the case-insensitive app pattern the UI uses per browser. */
const BROWSER_APPS: Record<string, { names: string[]; regex: string }> = {
  firefox: { names: ['org.mozilla.firefox', 'io.gitlab.librewolf-community', 'net.waterfox.waterfox'], regex: '(?i)(firefox|librewolf|waterfox|nightly)' },
  chrome: { names: [], regex: '(?i)^(google[-_ ]?chrome|chrome|chromium)' },
  edge: { names: [], regex: '(?i)^(microsoft[-_ ]?edge|msedge)' },
  arc: { names: [], regex: '(?i)^arc(\\.exe)?$' },
};

/** Browser names whose buckets the activity query knows, matched as substrings of bucket ids. */
export const BROWSERS = ['firefox', 'chrome', 'edge', 'arc'];

/** browser name → the first `web.tab.current` bucket whose id names it. */
export function browserBucketsOf(buckets: { id: string; type: string }[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const b of buckets.filter((x) => x.type === 'web.tab.current')) {
    const name = BROWSERS.find((n) => b.id.toLowerCase().includes(n));
    if (name && !out[name]) out[name] = b.id;
  }
  return out;
}

/** JSON text as the UI embeds it: doubled backslashes collapsed back to one. */
const embedCategories = (cats: CategoryRule[]): string => JSON.stringify(cats).replaceAll('\\\\', '\\');

export interface ActivityQueryOptions {
  windowBucket: string;
  afkBucket: string;
  /** browser name → bucket id, e.g. {firefox: "aw-watcher-web-firefox_host"}. */
  browserBuckets?: Record<string, string>;
  categories?: CategoryRule[];
  filterAfk?: boolean;
  includeAudible?: boolean;
}

/**
 * The canonical events fragment: AFK-filtered window events with browser
 * time only while the browser window is focused, audible tabs counting as active; leaves `events`
 * (categorised), `not_afk` and `browser_events` defined.
 */
export function canonicalEvents(o: ActivityQueryOptions): string[] {
  const s = (id: string): string => JSON.stringify(id);
  const q: string[] = [
    `events = flood(query_bucket(${s(o.windowBucket)}));`,
    `not_afk = flood(query_bucket(${s(o.afkBucket)}));`,
    `not_afk = filter_keyvals(not_afk, "status", ["not-afk"]);`,
    `browser_events = [];`,
  ];
  for (const [name, bucket] of Object.entries(o.browserBuckets ?? {})) {
    const apps = BROWSER_APPS[name] ?? { names: [], regex: `(?i)(${name})` };
    q.push(
      `events_${name} = flood(query_bucket(${s(bucket)}));`,
      `window_${name} = filter_keyvals(events, "app", ${JSON.stringify(apps.names)});`,
      `window_${name} = sort_by_timestamp(concat(window_${name}, filter_keyvals_regex(events, "app", ${JSON.stringify(apps.regex)})));`,
      `events_${name} = filter_period_intersect(events_${name}, window_${name});`,
      `events_${name} = split_url_events(events_${name});`,
      `browser_events = sort_by_timestamp(concat(browser_events, events_${name}));`,
    );
  }
  if (o.includeAudible ?? true) {
    q.push(`audible_events = filter_keyvals(browser_events, "audible", [true]);`, `not_afk = period_union(not_afk, audible_events);`);
  }
  if (o.filterAfk ?? true) q.push(`events = filter_period_intersect(events, not_afk);`);
  q.push(`events = categorize(events, ${embedCategories(o.categories ?? DEFAULT_CATEGORIES)});`);
  return q;
}

/**
 * Time per category and active time of one period, for the charts over sub-periods (hours of a
 * day, days of a month): sent with many timeperiods in one request.
 */
export function categoryTimeQuery(o: ActivityQueryOptions): string[] {
  return [...canonicalEvents(o), ...CATEGORY_TIME];
}

const CATEGORY_TIME = [
  `cat_events = sort_by_duration(merge_events_by_keys(events, ["$category"]));`,
  `RETURN = {"cat_events": cat_events, "duration": sum_durations(events)};`,
];

/** The statements of the full desktop activity query, split at `;` like the UI sends them. */
export function activityQuery(o: ActivityQueryOptions): string[] {
  return [...canonicalEvents(o), ...summary()];
}

/** The activity summary of `events`, `not_afk` and `browser_events` (what the activity view shows). */
function summary(): string[] {
  return [
    `stopwatch_events = [];`,
    `title_events = sort_by_duration(merge_events_by_keys(events, ["app", "title"]));`,
    `app_events = sort_by_duration(merge_events_by_keys(title_events, ["app"]));`,
    `cat_events = sort_by_duration(merge_events_by_keys(events, ["$category"]));`,
    `app_events = limit_events(app_events, 100);`,
    `title_events = limit_events(title_events, 100);`,
    `duration = sum_durations(events);`,
    `browser_events = split_url_events(browser_events);`,
    `browser_urls = merge_events_by_keys(browser_events, ["url"]);`,
    `browser_urls = sort_by_duration(browser_urls);`,
    `browser_urls = limit_events(browser_urls, 100);`,
    `browser_domains = merge_events_by_keys(browser_events, ["$domain"]);`,
    `browser_domains = sort_by_duration(browser_domains);`,
    `browser_domains = limit_events(browser_domains, 100);`,
    `browser_titles = merge_events_by_keys(browser_events, ["title"]);`,
    `browser_titles = sort_by_duration(browser_titles);`,
    `browser_titles = limit_events(browser_titles, 100);`,
    `browser_duration = sum_durations(browser_events);`,
    `stopwatch_events = limit_events(sort_by_duration(merge_events_by_keys(stopwatch_events, ["label"])), 100);`,
    `RETURN = {"window": {"app_events": app_events, "title_events": title_events, "cat_events": cat_events, "active_events": not_afk, "duration": duration}, "browser": {"domains": browser_domains, "urls": browser_urls, "titles": browser_titles, "duration": browser_duration}, "stopwatch": {"stopwatch_events": stopwatch_events}};`,
  ];
}

/**
 * Several devices as one (ActivityWatch's multi-device mode): each device's canonical events, then
 * `union_no_overlap` over devices in order, so time counted on an earlier device is not counted
 * again on a later one. Browser buckets join in per device as in the single-device query.
 */
function combined(devices: ActivityQueryOptions[]): string[] {
  const q: string[] = [];
  devices.forEach((o, i) => q.push(...canonicalEvents(o), `events_${i} = events;`, `not_afk_${i} = not_afk;`, `browser_events_${i} = browser_events;`));
  q.push(`events = [];`, `not_afk = [];`, `browser_events = [];`);
  devices.forEach((_, i) =>
    q.push(
      `events = union_no_overlap(events, events_${i});`,
      `not_afk = union_no_overlap(not_afk, not_afk_${i});`,
      `browser_events = union_no_overlap(browser_events, browser_events_${i});`,
    ),
  );
  return q;
}

/** The activity query over several devices at once (same result shape as `activityQuery`). */
export const multiDeviceActivityQuery = (devices: ActivityQueryOptions[]): string[] => [...combined(devices), ...summary()];

/** `categoryTimeQuery` over several devices at once. */
export const multiDeviceCategoryTimeQuery = (devices: ActivityQueryOptions[]): string[] => [...combined(devices), ...CATEGORY_TIME];
