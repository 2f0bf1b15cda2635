#!/usr/bin/env node
// The CLI is compiled to dist/ by `npm install` (prepare) or `npm run build`.
import { holdYoungGeneration } from '../dist/young-generation.js';

// Before the rest is loaded: loading it is what would grow the young generation (see there).
holdYoungGeneration();
await import('../dist/cli.js');
