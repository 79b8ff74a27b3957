/**
 * Registers tsx's loader (TypeScript run as is, no build step) once the runtime dependencies are
 * loaded without it. They are plain JavaScript, hundreds of modules, and through the loader each
 * costs a round trip to its thread: about a second of every process's start. Loaded first, they
 * are found already loaded when the sources import them. The CLI, the benchmark and the test
 * runner start through this file; the SQLite writer thread, which needs none of them, does not.
 */
import { register } from 'tsx/esm/api';

// Those the sources import; one missing here is only slower to load.
const DEPENDENCIES = [
  '@fastify/swagger',
  '@fastify/swagger-ui',
  '@fastify/type-provider-typebox',
  '@sinclair/typebox',
  'ajv',
  'ajv-formats',
  'better-sqlite3',
  'cli-progress',
  'commander',
  'csv-parse',
  'fastify',
  'kysely',
  'pg',
  'prom-client',
];

await Promise.all(DEPENDENCIES.map((name) => import(name)));
register();
