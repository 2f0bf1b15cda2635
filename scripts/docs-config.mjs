// Rewrites the settings table of docs/config.md from the config schema (npm run docs:config).
import fs from 'node:fs';
import { settingsTable } from '../dist/config/describe.js';

const file = new URL('../docs/config.md', import.meta.url);
const text = fs.readFileSync(file, 'utf8');
const start = '<!-- settings:start -->';
const end = '<!-- settings:end -->';
const a = text.indexOf(start);
const b = text.indexOf(end);
if (a === -1 || b === -1) throw new Error('docs/config.md has no settings markers');
fs.writeFileSync(file, `${text.slice(0, a + start.length)}\n${settingsTable()}\n${text.slice(b)}`);
console.log('docs/config.md: settings table written');
