#!/usr/bin/env node
// Entry point of `pdpilot` / `npx pdpilot`: runs the compiled CLI in dist/.
// dist/ is built by `npm ci` (the prepare script) or `npm run build`.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
if (!existsSync(main)) {
  process.stderr.write(`pdpilot: ${main} is missing; run \`npm ci\` (or \`npm run build\`) in the pdpilot folder first\n`);
  process.exit(1);
}
await import(main);
