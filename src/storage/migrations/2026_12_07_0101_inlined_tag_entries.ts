import { type Kysely, sql } from 'kysely';
import type { EngineName } from '../storage.ts';

// Frozen: this migration never imports application code. PostgreSQL only: tag_entries(tags) is
// no longer STRICT, so that the planner inlines it (a STRICT set-returning SQL function never is)
// into the statements that expand tags: the batch statement of ingestion, the rebuild and the
// check of the tag rollups. Called, it ran about 12 µs per event through the SQL function
// executor; inlined, it is the jsonb_each_text it wraps, about 3 µs. Its answers do not change:
// null tags cast to a null jsonb, whose entries jsonb_each_text (itself strict) has none.

async function define(db: Kysely<any>, strict: string): Promise<void> {
  await sql
    .raw(
      `create or replace function tag_entries(tags text) returns table (key text, value text)
       language sql immutable${strict} parallel safe
       as $$ select e.key, e.value from jsonb_each_text(cast($1 as jsonb)) as e $$`,
    )
    .execute(db);
}

export async function up(db: Kysely<any>, engine: EngineName): Promise<void> {
  if (engine === 'postgres') await define(db, '');
}

export async function down(db: Kysely<any>, engine: EngineName): Promise<void> {
  if (engine === 'postgres') await define(db, ' strict');
}
