import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../../app.ts';
import { errorResponses } from '../../http/error-envelope.ts';
import { principalOf } from '../auth/auth.plugin.ts';
import { IngestBody, IngestResponse } from './ingestion.schemas.ts';
import { ingestUsage } from './ingestion.service.ts';

export async function ingestionRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  app.post(
    '/v1/usage/events',
    {
      config: { access: { scope: 'write:usage' } },
      schema: {
        summary: 'Report usage events',
        description:
          "A batch of up to 1000 events, validated as a whole: one bad event rejects the batch with a 400 listing each bad event, and nothing is written. Retried event ids are acknowledged and not counted twice. An event may name an API key only if the key existed at the event's time: created at or before it, and not deleted at or before it. An organization may use at most 1000000000 CHF, 9007199254740991 neurons and 9007199254740991 synapses in one UTC month: a batch that would pass one of these is a 400 naming the events of that organization and month.",
        tags: ['usage'],
        body: IngestBody,
        response: { 200: IngestResponse, ...errorResponses(400, 401, 403, 413, 415, 500) },
      },
    },
    async (request) => {
      const body = request.body as typeof IngestBody.static;
      const result = await ingestUsage(deps.storage, principalOf(request), body.events, deps.clock());
      app.metrics.recordIngest(result);
      return { success: true as const, ...result };
    },
  );
}
