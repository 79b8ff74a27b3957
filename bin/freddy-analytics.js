#!/usr/bin/env node
// Runs the TypeScript sources directly through tsx's loader; no build step is needed.
import './register-tsx.mjs';

await import('../src/cli/main.ts');
