import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../context.ts';
import { errorResponses } from '../../http/error-envelope.ts';
import { principalOf } from '../../http/request-principal.ts';
import { isoSeconds, parseIsoTime } from '../../time/calendar.ts';
import { modelPriceView, type PriceInput, priceEntryOf } from './price-view.ts';
import {
  ModelParams,
  ModelPrice,
  OrganizationModelParams,
  OrganizationModelPrice,
  PriceSheetResponse,
  PricingQuery,
  RepriceBody,
  RepriceResponse,
  SetPriceBody,
  UnpricedResponse,
} from './pricing.schemas.ts';
import {
  checkRange,
  listUnpricedModels,
  organizationPriceSheetAt,
  priceSheetAt,
  reprice,
  setOrganizationPrice,
  setPrice,
} from './pricing.service.ts';

const BODY_NAMES = {
  neurons: 'neurons_chf_per_million',
  synapses: 'synapses_chf_per_million',
  cachedNeurons: 'cached_neurons_chf_per_million',
  cacheWriteNeurons: 'cache_write_neurons_chf_per_million',
} as const;

function priceInputOf(body: Static<typeof SetPriceBody>): PriceInput {
  return {
    neurons: body.neurons_chf_per_million,
    synapses: body.synapses_chf_per_million,
    cachedNeurons: body.cached_neurons_chf_per_million,
    cacheWriteNeurons: body.cache_write_neurons_chf_per_million,
  };
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
          "CHF per 1M neurons and per 1M synapses of each model (or `*` pattern) in force now, or at `at`, and per 1M cached and cache-write neurons where a model prices them apart. Events that state no cost are priced from this sheet at their time. With `organization_id`: the sheet that organization gets, its own prices over the platform's, each price with its `source`.",
        tags: ['pricing'],
        querystring: PricingQuery,
        response: { 200: PriceSheetResponse, ...errorResponses(400, 401, 403, 404, 500) },
      },
    },
    async (request) => {
      const at = timeOf(request.query.at) ?? ctx.clock();
      const organizationId = request.query.organization_id;
      if (organizationId === undefined) {
        const entries = await priceSheetAt(ctx.storage.db, at);
        return { at: isoSeconds(at), currency: 'CHF' as const, models: entries.map(modelPriceView) };
      }
      const entries = await organizationPriceSheetAt(ctx.storage.db, principalOf(request), organizationId, at);
      return {
        at: isoSeconds(at),
        organization_id: organizationId,
        currency: 'CHF' as const,
        models: entries.map(modelPriceView),
      };
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
      const effectiveFrom = timeOf(body.effective_from) ?? ctx.clock();
      const entry = priceEntryOf(request.params.model, effectiveFrom, priceInputOf(body), BODY_NAMES);
      return modelPriceView(await setPrice(ctx.storage.db, entry, ctx.clock()));
    },
  );

  routes.put(
    '/v1/pricing/organizations/:org_id/models/:model',
    {
      config: ADMIN,
      schema: {
        summary: 'Add a price for one organization',
        operationId: 'addOrganizationPrice',
        description:
          "A negotiated rate: for the organization's events from `effective_from` (default: now) until its next own price of the model, it takes precedence over the platform sheet; before it, the platform's price applies. Earlier costs are not changed; to correct stored events, reprice them.",
        tags: ['pricing'],
        params: OrganizationModelParams,
        body: SetPriceBody,
        response: { 200: OrganizationModelPrice, ...errorResponses(400, 401, 403, 404, 413, 415, 500) },
      },
    },
    async (request) => {
      const { body, params } = request;
      const effectiveFrom = timeOf(body.effective_from) ?? ctx.clock();
      const entry = priceEntryOf(params.model, effectiveFrom, priceInputOf(body), BODY_NAMES);
      const stored = await setOrganizationPrice(ctx.storage.db, params.org_id, entry, ctx.clock());
      return { organization_id: params.org_id, ...modelPriceView({ ...stored, source: 'organization' }) };
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
