import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../context.ts';
import { invalidRequest } from '../../errors.ts';
import { errorResponses } from '../../http/error-envelope.ts';
import { isoSeconds, parseIsoTime } from '../../time/calendar.ts';
import { MAX_PRICE_PICO, parsePricePico, picoToChf, picoToDecimal } from './cost.ts';
import { isPattern, type PriceEntry } from './price-sheet.ts';
import {
  ModelParams,
  ModelPrice,
  PriceSheetResponse,
  PricingQuery,
  RepriceBody,
  RepriceResponse,
  SetPriceBody,
  UnpricedResponse,
} from './pricing.schemas.ts';
import { checkRange, listUnpricedModels, priceSheetAt, reprice, setPrice } from './pricing.service.ts';

export function modelPriceView(entry: PriceEntry) {
  return {
    model: entry.model,
    pattern: isPattern(entry.model),
    neurons_chf_per_million: picoToChf(entry.neuronsPico),
    synapses_chf_per_million: picoToChf(entry.synapsesPico),
    effective_from: isoSeconds(entry.effectiveFrom),
  };
}

/** A price from a request, exact, or a 400 naming the field. */
export function priceFromInput(field: string, value: number | string): bigint {
  const pico = parsePricePico(value);
  if (pico === undefined) {
    const reason = `must be a CHF amount from 0 to ${picoToDecimal(MAX_PRICE_PICO)} with at most 12 decimals`;
    throw invalidRequest('Invalid request body', [{ field, reason }]);
  }
  return pico;
}

const ADMIN = { access: { admin: true as const } };

export async function pricingRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const routes = app.withTypeProvider<TypeBoxTypeProvider>();
  const timeOf = (iso: string | undefined) => (iso === undefined ? undefined : parseIsoTime(iso));

  routes.get(
    '/v1/pricing',
    {
      config: { access: { authenticated: true } },
      schema: {
        summary: 'Get the price sheet',
        description:
          'CHF per 1M neurons and per 1M synapses of each model (or `*` pattern) in force now, or at `at`. Events that state no cost are priced from this sheet at their time.',
        tags: ['pricing'],
        querystring: PricingQuery,
        response: { 200: PriceSheetResponse, ...errorResponses(400, 401, 500) },
      },
    },
    async (request) => {
      const at = timeOf(request.query.at) ?? ctx.clock();
      const entries = await priceSheetAt(ctx.storage.db, at);
      return { at: isoSeconds(at), currency: 'CHF' as const, models: entries.map(modelPriceView) };
    },
  );

  routes.put(
    '/v1/pricing/models/:model',
    {
      config: ADMIN,
      schema: {
        summary: 'Add a price',
        description:
          'The price applies to events from `effective_from` (default: now) until the next price of the model; earlier costs are not changed. To correct stored events, reprice them.',
        tags: ['pricing'],
        params: ModelParams,
        body: SetPriceBody,
        response: { 200: ModelPrice, ...errorResponses(400, 401, 403, 413, 415, 500) },
      },
    },
    async (request) => {
      const { body } = request;
      const entry = await setPrice(
        ctx.storage.db,
        {
          model: request.params.model,
          effectiveFrom: timeOf(body.effective_from) ?? ctx.clock(),
          neuronsPico: priceFromInput('neurons_chf_per_million', body.neurons_chf_per_million),
          synapsesPico: priceFromInput('synapses_chf_per_million', body.synapses_chf_per_million),
        },
        ctx.clock(),
      );
      return modelPriceView(entry);
    },
  );

  routes.get(
    '/v1/pricing/unpriced',
    {
      config: ADMIN,
      schema: {
        summary: 'List models without a price',
        description: 'Models of events stored without a price, across organizations, until they are repriced.',
        tags: ['pricing'],
        response: { 200: UnpricedResponse, ...errorResponses(401, 403, 500) },
      },
    },
    async () => ({
      models: (await listUnpricedModels(ctx.storage.db)).map((m) => ({
        model: m.model,
        first_seen: isoSeconds(m.firstSeen),
        last_seen: isoSeconds(m.lastSeen),
        event_count: m.events,
        organization_count: m.organizations,
      })),
    }),
  );

  routes.post(
    '/v1/pricing/reprice',
    {
      config: ADMIN,
      schema: {
        summary: 'Reprice stored events',
        description:
          'Recomputes the cost of stored events of the model (and its dated snapshots, or the models a pattern matches) from the price sheet, and rebuilds the rollups of each changed month in one transaction. Events whose reporter stated the cost are never changed.',
        tags: ['pricing'],
        body: RepriceBody,
        response: { 200: RepriceResponse, ...errorResponses(400, 401, 403, 413, 415, 500) },
      },
    },
    async (request) => {
      const from = timeOf(request.body.from);
      const to = timeOf(request.body.to);
      checkRange(from, to);
      return reprice(ctx.storage, { model: request.body.model, from, to });
    },
  );
}
