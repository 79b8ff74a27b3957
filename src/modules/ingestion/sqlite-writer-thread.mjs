// The SQLite writer thread's entry point: a worker thread starts without the TypeScript loader
// its parent process registered, so it registers its own before loading the thread's module,
// after better-sqlite3, which loads faster without it (see bin/tsx-loader.mjs).
import { register } from 'tsx/esm/api';

await import('better-sqlite3');
register();
await import('./sqlite-writer-thread.ts');
