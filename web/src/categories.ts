import { DEFAULT_CATEGORIES, type CategoryRule } from '../../src/query/webui';

/** A category as ActivityWatch's UI stores it in the `classes` setting. */
export interface Category {
  id: number;
  name: string[];
  rule: { type: 'regex' | 'none' | null; regex?: string; ignore_case?: boolean };
  data?: { color?: string; score?: number };
}

export const defaultCategories = (): Category[] => [
  ...DEFAULT_CATEGORIES.map(([name, rule], i): Category => ({ id: i + 1, name, rule: { ...rule } })),
  { id: DEFAULT_CATEGORIES.length + 1, name: ['Uncategorized'], rule: { type: null } },
];

/** The `classes` setting, or the defaults when it is not set (as ActivityWatch's UI does). */
export function categoriesOf(settings: Record<string, unknown> | null): Category[] {
  const c = settings?.classes;
  return Array.isArray(c) ? (c as Category[]) : defaultCategories();
}

/** What a query gets: `[name, rule]` pairs; rules without a type are left out, legacy null types become "none". */
export function queryRules(cats: Category[]): CategoryRule[] {
  return cats
    .filter((c) => c.rule && c.rule.type !== null && c.name.length > 0)
    .map((c) => {
      const r: CategoryRule[1] = { type: c.rule.type === 'regex' ? 'regex' : 'none' };
      if (c.rule.type === 'regex') {
        r.regex = c.rule.regex ?? '';
        if (c.rule.ignore_case) r.ignore_case = true;
      }
      return [c.name, r];
    });
}

/** Checks a rule's regex the way the browser reads it; null when it is fine. */
export function regexError(pattern: string): string | null {
  if (pattern === '') return 'empty pattern: it would match everything';
  try {
    // The engine accepts a leading (?i) flag group; JavaScript does not.
    new RegExp(pattern.replace(/^\(\?i\)/, ''));
    return null;
  } catch (e) {
    return (e as Error).message.replace(/^Invalid regular expression: /, '');
  }
}
