// Rewrites the command sections of docs/cli.md from each command's help (test/cli/main.test.ts keeps them equal).
import fs from 'node:fs';
import { COMMANDS, commandHelp } from '../dist/cli/main.js';

const file = new URL('../docs/cli.md', import.meta.url);
const text = fs.readFileSync(file, 'utf8');
const intro = text.slice(0, text.indexOf('\n## ') + 1);
const sections = COMMANDS.map((c) => `## ${c.name}\n\n\`\`\`\n${commandHelp(c)}\n\`\`\`\n`);
fs.writeFileSync(file, `${intro}${sections.join('\n')}`);
console.log(`docs/cli.md: ${COMMANDS.length} commands written`);
