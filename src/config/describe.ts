import { z } from 'zod';
import type { LoadedConfig } from './config.js';
import { configSchema, type Config } from './schema.js';

/** One setting as the docs table and `sundial config` show it. */
export interface Setting {
  key: string;
  type: string;
  default: unknown;
  description: string;
}

interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  enum?: unknown[];
  default?: unknown;
  description?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  format?: string;
}

function typeOf(s: JsonSchema): string {
  if (Array.isArray(s.type)) return typeOf({ ...s, type: undefined, anyOf: s.type.map((type) => ({ type })) });
  if (s.anyOf) return s.anyOf.filter((a) => a.type !== 'null').map(typeOf).join(' | ') + ' (or unset)';
  if (s.enum) return s.enum.map((v) => JSON.stringify(v)).join(' | ');
  if (s.type === 'array') return `list of ${s.items?.type === 'object' ? 'tables' : `${typeOf(s.items ?? {})}s`}`;
  let t = s.format === 'uri' ? 'URL' : s.type ?? 'any';
  if (s.exclusiveMinimum !== undefined) t += ` > ${s.exclusiveMinimum}`;
  else if (s.minimum !== undefined && s.maximum !== undefined) t += ` ${s.minimum}–${s.maximum}`;
  else if (s.minimum !== undefined) t += ` ≥ ${s.minimum}`;
  return t;
}

/** Every setting, from the schema (leaves of the section tree). */
export function settings(testing = false): Setting[] {
  const root = z.toJSONSchema(configSchema(testing), { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  const out: Setting[] = [];
  const walk = (s: JsonSchema, prefix: string) => {
    for (const [k, v] of Object.entries(s.properties ?? {})) {
      const key = prefix ? `${prefix}.${k}` : k;
      if (v.type === 'object' && v.properties && v.description === undefined) walk(v, key);
      else out.push({ key, type: typeOf(v), default: v.default, description: v.description ?? '' });
    }
  };
  walk(root, '');
  return out;
}

/** A value in TOML's inline syntax (JSON's strings, numbers and lists are TOML too). */
function tomlValue(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(tomlValue).join(', ')}]`;
  if (v !== null && typeof v === 'object') return `{ ${Object.entries(v).map(([k, x]) => `${k} = ${tomlValue(x)}`).join(', ')} }`;
  return JSON.stringify(v);
}

/** The settings table of docs/config.md. */
export function settingsTable(): string {
  const cell = (t: string) => t.replaceAll('|', '\\|');
  const rows = settings().map((s) => `| \`${s.key}\` | ${cell(s.type)} | ${s.default === null ? 'unset' : `\`${cell(tomlValue(s.default))}\``} | ${cell(s.description)} |`);
  return ['| key | type | default | what it does |', '|---|---|---|---|', ...rows].join('\n');
}

/**
 * The effective config as TOML, each value with where it came from: the default, the file, or a
 * command-line flag (`overrides`: dotted keys).
 */
export function describeEffective(loaded: LoadedConfig, overrides: ReadonlyMap<string, string>): string {
  const lines = [`# config file: ${loaded.file ?? '(none: embedded defaults)'}`];
  let section = '';
  // TOML: keys outside any section must come before the first [section] header.
  const all = settings();
  const ordered = [...all.filter((s) => !s.key.includes('.')), ...all.filter((s) => s.key.includes('.'))];
  for (const s of ordered) {
    const dot = s.key.lastIndexOf('.');
    const [sec, name] = [dot < 0 ? '' : s.key.slice(0, dot), s.key.slice(dot + 1)];
    if (sec !== section) {
      lines.push('', `[${sec}]`);
      section = sec;
    }
    const value = (sec ? sec.split('.') : []).reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], loaded.config as Config) as Record<string, unknown>;
    const v = value[name];
    const source = overrides.get(s.key) ?? (loaded.fromFile.has(s.key) ? 'file' : 'default');
    lines.push(v === null ? `# ${name} is unset  (${source})` : `${name} = ${tomlValue(v)}  # ${source}`);
  }
  return lines.join('\n');
}
