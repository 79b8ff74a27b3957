import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import type { AppDeps } from '../app.ts';
import { AppError } from '../errors.ts';
import { isSchemaCurrent } from '../storage/migrate.ts';
import { errorResponses } from './error-envelope.ts';

const Health = Type.Object({ status: Type.String() });

export async function healthRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  app.get(
    '/healthz',
    { schema: { summary: 'The process is up', tags: ['operations'], response: { 200: Health } } },
    async () => ({ status: 'ok' }),
  );

  app.get(
    '/readyz',
    {
      schema: {
        summary: 'The database is reachable and its schema is current',
        tags: ['operations'],
        response: { 200: Health, ...errorResponses(503) },
      },
    },
    async () => {
      try {
        await sql`select 1`.execute(deps.storage.db);
        if (!(await isSchemaCurrent(deps.storage.db, deps.storage.dialect))) throw new Error('pending migrations');
      } catch (error) {
        throw new AppError('SERVICE_UNAVAILABLE', {
          systemMessage:
            error instanceof Error && error.message === 'pending migrations'
              ? 'Migrations pending'
              : 'Database unreachable',
        });
      }
      return { status: 'ready' };
    },
  );
}
