/**
 * The one way every analytics answer reads the database: the organization is checked first (a
 * 404 for one that does not exist, which only a platform admin gets to see), then the rollup
 * read runs, and its result is reused from the read memo for as long as nothing has been
 * committed since (storage/read-memo.ts). Results are shared between requests: a read returns
 * data, and the answer is built from it per request (times such as `generatedAt` included).
 */
import type { AppContext } from '../../context.ts';
import type { Db } from '../../storage/schema.ts';

/** What the analytics read from. */
export type AnalyticsContext = Pick<AppContext, 'storage' | 'reads' | 'organizations'>;

/**
 * `load`'s result for the organization, named `name` with the arguments it depends on; `load`
 * gets the organization's creation time with the database.
 */
export function readAnalytics<T>(
  ctx: AnalyticsContext,
  name: string,
  organizationId: string,
  args: ReadonlyArray<string | number>,
  load: (db: Db, organizationCreatedAt: number) => Promise<T>,
): Promise<T> {
  return ctx.reads.get([name, organizationId, ...args], async () =>
    load(ctx.storage.db, await ctx.organizations.createdAt(organizationId)),
  );
}
