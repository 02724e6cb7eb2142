#!/usr/bin/env node
// Thin launcher: the CLI is compiled to dist/ by `npm run build` (run automatically by `npm ci`).
import { runYggProcess } from '../dist/cli/process-entry.js';

await runYggProcess(process.argv.slice(2));
