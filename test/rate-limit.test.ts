/**
 * Rate limiting per API key: a key over its limit gets 429 RATE_LIMIT_EXCEEDED with
 * Retry-After and X-RateLimit-* headers, while other keys of the same organization are not
 * affected; the allowance refills with time. The limit comes from RATE_LIMIT_PER_MINUTE.
 * On both engines: a key's allowance is counted after it is authenticated from the database.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { loadConfig } from '../src/config.ts';
import { createAdminKey } from '../src/modules/admin-keys/admin-keys.service.ts';
import { createApiKey } from '../src/modules/api-keys/api-keys.service.ts';
import { OPERATOR } from '../src/modules/auth/principal.ts';
import { createOrganization } from '../src/modules/orgs/orgs.service.ts';
import { migrateToLatest } from '../src/storage/migrate.ts';
import { openStorage, type Storage } from '../src/storage/storage.ts';
import { appOver, createTestDatabase, DIALECTS, type TestDatabase } from './harness.ts';

const LIMIT = 5;

for (const dialect of DIALECTS) {
  describe(`rate limit per key [${dialect}]`, () => {
    let database: TestDatabase;
    let storage: Storage;
    let app: FastifyInstance;
    let now = Date.parse('2026-03-10T12:00:00Z');
    let orgId: string;
    let busy: string;
    let quiet: string;
    let admin: string;

    before(async () => {
      database = await createTestDatabase(dialect);
      storage = await openStorage(database.config);
      await migrateToLatest(storage);
      app = await appOver({
        storage,
        config: {
          bodyLimit: 1_048_576,
          requestTimeoutMs: 30_000,
          logLevel: 'silent',
          reservationTtlSeconds: 300,
          rateLimitPerMinute: LIMIT,
        },
        clock: () => now,
      });
      orgId = (await createOrganization(storage.db, { name: 'Limited' }, now)).id;
      const key = async () =>
        (await createApiKey(storage.db, orgId, { name: 'k', scopes: ['read:usage', 'write:usage'] }, now, OPERATOR))
          .secret;
      busy = await key();
      quiet = await key();
      admin = (await createAdminKey(storage.db, 'admin', now)).secret;
    });
    after(async () => {
      await app.close();
      await storage.close();
      await database.drop();
    });

    const summary = (key: string) =>
      app.inject({ method: 'GET', url: `/v1/analytics/usage/summary/${orgId}`, headers: { 'x-api-key': key } });

    it('answers 429 with Retry-After and X-RateLimit headers once a key used its allowance', async () => {
      for (let i = 0; i < LIMIT; i++) {
        const response = await summary(busy);
        assert.equal(response.statusCode, 200);
        assert.equal(response.headers['x-ratelimit-limit'], String(LIMIT));
        assert.equal(response.headers['x-ratelimit-remaining'], String(LIMIT - 1 - i));
        assert.ok(Number(response.headers['x-ratelimit-reset']) > 0);
      }
      const limited = await summary(busy);
      assert.equal(limited.statusCode, 429);
      const body = limited.json();
      assert.equal(body.success, false);
      assert.equal(body.error.code, 'RATE_LIMIT_EXCEEDED');
      assert.equal(body.error.status, 429);
      assert.equal(limited.headers['x-trace-id'], body.error.trace_id);
      assert.equal(limited.headers['x-ratelimit-remaining'], '0');
      // One request per 12 s at 5 per minute.
      assert.equal(limited.headers['retry-after'], '12');
      assert.equal(limited.headers['x-ratelimit-reset'], '60');
    });

    it('does not affect the other keys of the organization, nor the admin key', async () => {
      for (let i = 0; i < LIMIT; i++) {
        assert.equal((await summary(quiet)).statusCode, 200);
        assert.equal((await summary(admin)).statusCode, 200);
      }
      assert.equal((await summary(busy)).statusCode, 429);
    });

    it('refills with time', async () => {
      now += 12_000;
      assert.equal((await summary(busy)).statusCode, 200);
      assert.equal((await summary(busy)).statusCode, 429);
      now += 60_000;
      for (let i = 0; i < LIMIT; i++) assert.equal((await summary(busy)).statusCode, 200);
    });

    it('answers 429 over the limit whatever else is wrong with the request, and reports the limit on every answer', async () => {
      now += 60_000;
      const invalid = () =>
        app.inject({
          method: 'GET',
          url: `/v1/analytics/usage/limits/${orgId}?year=2026&month=13`,
          headers: { 'x-api-key': busy },
        });
      const malformed = () =>
        app.inject({
          method: 'POST',
          url: '/v1/usage/events',
          headers: { 'x-api-key': busy, 'content-type': 'application/json' },
          payload: '{"events": [',
        });
      const rejected = await invalid();
      assert.equal(rejected.statusCode, 400, rejected.body);
      assert.equal(rejected.headers['x-ratelimit-remaining'], String(LIMIT - 1));
      assert.equal((await malformed()).statusCode, 400);
      for (let i = 2; i < LIMIT; i++) assert.equal((await summary(busy)).statusCode, 200);
      for (const response of [await invalid(), await malformed()]) {
        assert.equal(response.statusCode, 429, response.body);
        assert.equal(response.json().error.code, 'RATE_LIMIT_EXCEEDED');
        assert.equal(response.headers['x-ratelimit-remaining'], '0');
        assert.ok(Number(response.headers['retry-after']) >= 1);
      }
    });

    it('leaves unauthenticated and public routes alone', async () => {
      const health = await app.inject({ method: 'GET', url: '/healthz' });
      assert.equal(health.headers['x-ratelimit-limit'], undefined);
      assert.equal((await summary('fak_unknown')).statusCode, 401);
    });

    it('is configurable, generous by default, and can be turned off', () => {
      assert.equal(loadConfig({}).rateLimitPerMinute, 6_000);
      assert.equal(loadConfig({ RATE_LIMIT_PER_MINUTE: '120' }).rateLimitPerMinute, 120);
      assert.equal(loadConfig({ RATE_LIMIT_PER_MINUTE: '0' }).rateLimitPerMinute, 0);
      assert.throws(() => loadConfig({ RATE_LIMIT_PER_MINUTE: '-1' }), /RATE_LIMIT_PER_MINUTE/);
    });
  });
}
