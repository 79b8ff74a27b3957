import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../context.ts';
import { AppError } from '../errors.ts';
import { type ReadinessProblem, readinessProblem } from '../storage/readiness.ts';
import { errorResponses } from './error-envelope.ts';

const Health = Type.Object({ status: Type.String() }, { title: 'Health' });

const REASONS: Record<ReadinessProblem, string> = {
  unreachable: 'Database unreachable',
  migrations_pending: 'Migrations pending',
  schema_incomplete: 'Database schema incomplete: a table or column the migrations create is missing',
  read_only: 'Database is read-only',
  corrupt: 'Database file is corrupt',
};

export async function healthRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.get(
    '/healthz',
    {
      schema: {
        summary: 'The process is up',
        operationId: 'getHealth',
        tags: ['operations'],
        response: { 200: Health },
      },
    },
    async () => ({ status: 'ok' }),
  );

  app.get(
    '/readyz',
    {
      schema: {
        summary: 'The database is reachable and writable, and its schema current and intact',
        operationId: 'getReadiness',
        description: `503 names the reason: ${Object.values(REASONS).join('; ')}.`,
        tags: ['operations'],
        response: { 200: Health, ...errorResponses(503) },
      },
    },
    async () => {
      const problem = await readinessProblem(ctx.storage);
      if (problem) throw new AppError('SERVICE_UNAVAILABLE', { systemMessage: REASONS[problem] });
      return { status: 'ready' };
    },
  );
}
