import { canonicalJson, type EventData } from '../model/event.js';
import { sealData, type Sealed, SLOT } from './data.js';
import { compileRegex } from './regex.js';
import { QDict, QEvent, QueryError, type Value } from './values.js';
import { EventList } from './event-list.js';
import { withData } from './transforms.js';

/**
 * `categorize` and `tag`. Rules are validated before any event is looked at.
 * Results are cached per distinct event data: by object identity across queries of this thread
 * (the SQLite source shares one frozen data object per distinct stored data text), and by
 * canonical JSON within one call.
 *
 * Empty patterns: like the reference, a `"regex"` rule with `""` matches every event that has
 * at least one string value (chosen for parity; the web UI never sends one for parents).
 */

interface Rule {
  re: RegExp | null; // null: a "none" rule, never matches
  selectKeys: string[] | null;
}

const bad = (msg: string): QueryError => new QueryError('InvalidFunctionParameters', msg);

function parseRule(v: Value, where: string): Rule {
  if (!(v instanceof QDict)) throw bad(`${where}: a rule must be a dict`);
  const m = v.map;
  const type = m.get('type');
  if (type === undefined) throw bad(`${where}: rule has no "type"`);
  if (typeof type !== 'string') throw bad(`${where}: rule "type" must be a string`);
  let selectKeys: string[] | null = null;
  const sk = m.get('select_keys');
  if (sk !== undefined) {
    if (!Array.isArray(sk) || sk.some((k) => typeof k !== 'string')) throw bad(`${where}: "select_keys" must be a list of strings`);
    if (sk.length === 0) throw bad(`${where}: "select_keys" must not be empty`);
    selectKeys = sk as string[];
  }
  const ic = m.get('ignore_case');
  if (ic !== undefined && typeof ic !== 'boolean') throw bad(`${where}: "ignore_case" must be true or false`);
  if (type === 'none') return { re: null, selectKeys };
  if (type !== 'regex') throw bad(`${where}: Unknown rule type ${JSON.stringify(type)}`);
  const pattern = m.get('regex');
  if (pattern === undefined) throw bad(`${where}: regex rule has no "regex"`);
  if (typeof pattern !== 'string') throw bad(`${where}: "regex" must be a string`);
  return { re: compileRegex(pattern, ic === true), selectKeys };
}

function ruleMatches(rule: Rule, data: EventData): boolean {
  const re = rule.re;
  if (!re) return false;
  if (rule.selectKeys) {
    for (const k of rule.selectKeys) {
      const v = Object.prototype.hasOwnProperty.call(data, k) ? data[k] : undefined;
      if (typeof v === 'string' && re.test(v)) return true;
    }
    return false;
  }
  for (const k in data) {
    const v = data[k];
    if (typeof v === 'string' && re.test(v)) return true;
  }
  return false;
}

function parsePairs<T>(rules: Value, fname: string, parseName: (v: Value, where: string) => T): [T, Rule][] {
  if (!Array.isArray(rules)) throw bad(`${fname}: rules must be a list of [name, rule] pairs`);
  return rules.map((pair, i) => {
    const where = `${fname}: rule ${i + 1}`;
    if (!Array.isArray(pair) || pair.length !== 2) throw bad(`${where}: expected a [name, rule] pair`);
    return [parseName(pair[0]!, where), parseRule(pair[1]!, where)];
  });
}

const asCategory = (v: Value, where: string): string[] => {
  if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) throw bad(`${where}: category must be a list of strings`);
  return Object.freeze(v.slice()) as string[];
};
const asTag = (v: Value, where: string): string => {
  if (typeof v !== 'string') throw bad(`${where}: tag must be a string`);
  return v;
};

/** Per-thread memo: rules text → (input data object → output data object). */
const MEMO_MAX = 32;
const memos = new Map<string, WeakMap<EventData, EventData>>();

function memoFor(key: string): WeakMap<EventData, EventData> {
  let m = memos.get(key);
  if (m) {
    memos.delete(key);
    memos.set(key, m);
    return m;
  }
  if (memos.size >= MEMO_MAX) memos.delete(memos.keys().next().value as string);
  m = new WeakMap();
  memos.set(key, m);
  return m;
}

function mapData(l: EventList, memoKey: string, f: (d: EventData) => EventData): EventList {
  const byId = memoFor(memoKey);
  const byText = new Map<string, EventData>();
  return withData(l, (data) => {
    // The data's slot remembers its last mapping (the usual case: the same rules query after query).
    const slot = (data as Sealed)[SLOT];
    if (slot !== undefined && slot.mapKey === byId) return slot.mapOut!;
    let d = byId.get(data);
    if (d === undefined) {
      const text = canonicalJson(data);
      d = byText.get(text);
      if (d === undefined) byText.set(text, (d = f(data)));
      byId.set(data, d);
    }
    if (slot !== undefined) {
      slot.mapKey = byId;
      slot.mapOut = d;
    }
    return d;
  });
}

const rulesKey = (fname: string, rules: Value): string => fname + '\u0000' + valueKey(rules);

/** A cache key for rule values (lists, dicts, strings, bools, numbers). */
function valueKey(v: Value): string {
  if (Array.isArray(v)) return `[${v.map(valueKey).join(',')}]`;
  if (v instanceof QDict) return `{${[...v.map.keys()].sort().map((k) => `${JSON.stringify(k)}:${valueKey(v.map.get(k)!)}`).join(',')}}`;
  return JSON.stringify(v) ?? 'null';
}

const UNCATEGORIZED = Object.freeze(['Uncategorized']) as string[];

export function categorizeList(l: EventList, rules: Value): EventList {
  const pairs = parsePairs(rules, 'categorize', asCategory);
  return mapData(l, rulesKey('categorize', rules), (data) => {
    let cat = UNCATEGORIZED;
    for (const [c, rule] of pairs) {
      if (c.length >= cat.length && ruleMatches(rule, data)) cat = c;
    }
    return sealData({ ...data, $category: cat });
  });
}

export function tagList(l: EventList, rules: Value): EventList {
  const pairs = parsePairs(rules, 'tag', asTag);
  return mapData(l, rulesKey('tag', rules), (data) => {
    const tags = new Set<string>();
    for (const [t, rule] of pairs) if (!tags.has(t) && ruleMatches(rule, data)) tags.add(t);
    return sealData({ ...data, $tags: [...tags].sort() });
  });
}

export const categorize = (evs: readonly QEvent[], rules: Value): QEvent[] => categorizeList(EventList.of(evs), rules).events();
export const tag = (evs: readonly QEvent[], rules: Value): QEvent[] => tagList(EventList.of(evs), rules).events();
