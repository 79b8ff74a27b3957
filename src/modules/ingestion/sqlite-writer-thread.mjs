// The SQLite writer thread's entry point: a worker thread starts without the TypeScript loader
// its parent process registered, so it registers its own before loading the thread's module,
// after the dependencies that module needs, which load faster without it (see
// bin/register-tsx.mjs).
import { register } from 'tsx/esm/api';

await Promise.all([import('better-sqlite3'), import('kysely')]);
register();
await import('./sqlite-writer-thread.ts');
