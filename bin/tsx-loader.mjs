/**
 * Registers tsx's loader (TypeScript run as is, no build step) once the runtime dependencies are
 * loaded without it. They are plain JavaScript, hundreds of modules, and through the loader each
 * costs a round trip to its thread: about a second of every process's start. Loaded first, they
 * are found already loaded when the sources import them. The SQLite writer thread, which needs
 * none of them, registers the loader itself (src/modules/ingestion/sqlite-writer-thread.mjs).
 */
import { register } from 'tsx/esm/api';

/** What the command line imports for every command but `serve`; one missing here is only slower to load. */
export const COMMAND_DEPENDENCIES = [
  '@sinclair/typebox',
  'ajv',
  'ajv-formats',
  'better-sqlite3',
  'cli-progress',
  'commander',
  'csv-parse',
  'kysely',
  'pg',
];

/** Everything the sources import: the commands' dependencies and the HTTP server's. */
export const ALL_DEPENDENCIES = [
  ...COMMAND_DEPENDENCIES,
  '@fastify/swagger',
  '@fastify/swagger-ui',
  '@fastify/type-provider-typebox',
  'fastify',
  'prom-client',
];

export async function registerTsx(dependencies) {
  await Promise.all(dependencies.map((name) => import(name)));
  register();
}
