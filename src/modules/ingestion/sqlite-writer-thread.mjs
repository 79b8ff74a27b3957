// The SQLite writer thread's entry point: a worker thread starts without the TypeScript loader
// its parent process registered, so it registers its own before loading the thread's module.
import { register } from 'tsx/esm/api';

register();
await import('./sqlite-writer-thread.ts');
