#!/usr/bin/env node
// Runs the TypeScript sources directly through tsx's loader; no build step is needed.
import { ALL_DEPENDENCIES, COMMAND_DEPENDENCIES, registerTsx } from './tsx-loader.mjs';

// Only `serve` loads the HTTP server; the other commands start faster without its modules.
await registerTsx(process.argv[2] === 'serve' ? ALL_DEPENDENCIES : COMMAND_DEPENDENCIES);
await import('../src/cli/main.ts');
