import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, DEFAULT_SQLITE_PATH, loadConfig } from './config.ts';

describe('loadConfig', () => {
  it('defaults to port 8080 on loopback with the embedded SQLite file', () => {
    const config = loadConfig({});
    assert.equal(config.port, 8080);
    assert.equal(config.host, '127.0.0.1');
    assert.deepEqual(config.database, { kind: 'sqlite', path: DEFAULT_SQLITE_PATH });
    assert.equal(config.readMemoEntries, 10_000);
    assert.ok(Object.isFrozen(config));
  });
  it('reads READ_MEMO_ENTRIES, where 0 turns reuse off', () => {
    assert.equal(loadConfig({ READ_MEMO_ENTRIES: '0' }).readMemoEntries, 0);
    assert.equal(loadConfig({ READ_MEMO_ENTRIES: '500' }).readMemoEntries, 500);
  });
  it('reads RAW_EVENTS_RETENTION_MONTHS, unset keeping every raw event', () => {
    assert.equal(loadConfig({}).rawEventsRetentionMonths, undefined);
    assert.equal(loadConfig({ RAW_EVENTS_RETENTION_MONTHS: ' ' }).rawEventsRetentionMonths, undefined);
    assert.equal(loadConfig({ RAW_EVENTS_RETENTION_MONTHS: '13' }).rawEventsRetentionMonths, 13);
  });
  it('reads a sqlite: URL and a postgres URL', () => {
    assert.deepEqual(loadConfig({ DATABASE_URL: 'sqlite:/tmp/x.sqlite' }).database, {
      kind: 'sqlite',
      path: '/tmp/x.sqlite',
    });
    assert.deepEqual(loadConfig({ DATABASE_URL: 'postgres://u@h/db', DATABASE_POOL_SIZE: '4' }).database, {
      kind: 'postgres',
      url: 'postgres://u@h/db',
      poolSize: 4,
      ingestConcurrency: 2,
    });
    const url = 'postgres://u@h/db';
    assert.equal(
      (loadConfig({ DATABASE_URL: url, DATABASE_INGEST_CONCURRENCY: '6' }).database as { ingestConcurrency: number })
        .ingestConcurrency,
      6,
    );
  });
  it('reads REDIS_URL with its key prefix, and leaves Redis out without it', () => {
    assert.equal(loadConfig({}).redis, undefined);
    assert.deepEqual(loadConfig({ REDIS_URL: 'redis://127.0.0.1:6379' }).redis, {
      url: 'redis://127.0.0.1:6379',
      keyPrefix: 'freddy:',
    });
    assert.equal(loadConfig({ REDIS_URL: 'redis://r:6379/2', REDIS_KEY_PREFIX: 'eu-1:' }).redis?.keyPrefix, 'eu-1:');
  });
  it('reads DATABASE_POOL_MODE=transaction for a pooler in front of PostgreSQL', () => {
    const database = loadConfig({ DATABASE_URL: 'postgres://u@h:6432/db', DATABASE_POOL_MODE: 'transaction' }).database;
    assert.equal(database.kind === 'postgres' && database.poolMode, 'transaction');
  });
  it('reads INGEST_NATS_URL, with the stream and subject prefix it defaults to', () => {
    assert.equal(loadConfig({}).ingestNats, undefined);
    assert.deepEqual(loadConfig({ INGEST_NATS_URL: 'nats://127.0.0.1:4222' }).ingestNats, {
      url: 'nats://127.0.0.1:4222',
      stream: 'FREDDY_USAGE',
      subjectPrefix: 'freddy',
    });
    assert.deepEqual(
      loadConfig({
        INGEST_NATS_URL: 'nats://a:4222,nats://b:4222',
        INGEST_NATS_STREAM: 'USAGE_EU',
        INGEST_NATS_SUBJECT_PREFIX: 'eu.freddy',
      }).ingestNats,
      { url: 'nats://a:4222,nats://b:4222', stream: 'USAGE_EU', subjectPrefix: 'eu.freddy' },
    );
  });
  const bad: Array<[Record<string, string>, RegExp]> = [
    [{ INGEST_NATS_URL: 'http://x:4222' }, /^INGEST_NATS_URL must be nats:\/\/host:port/],
    [{ INGEST_NATS_URL: 'nats://x', INGEST_NATS_STREAM: 'a.b' }, /^INGEST_NATS_STREAM must be letters/],
    [
      { INGEST_NATS_URL: 'nats://x', INGEST_NATS_SUBJECT_PREFIX: 'f.>' },
      /^INGEST_NATS_SUBJECT_PREFIX must be subject tokens/,
    ],
    [{ PORT: 'abc' }, /^PORT must be an integer from 0 to 65535 \(got "abc"\)$/],
    [{ PORT: '70000' }, /^PORT/],
    [{ PORT: '-1' }, /^PORT/],
    [{ DATABASE_URL: 'mysql://x' }, /^DATABASE_URL must start with/],
    [{ DATABASE_URL: 'sqlite:' }, /^DATABASE_URL: sqlite: needs a file path/],
    [{ LOG_LEVEL: 'loud' }, /^LOG_LEVEL must be one of/],
    [{ READ_MEMO_ENTRIES: '-1' }, /^READ_MEMO_ENTRIES must be an integer from 0 to 10000000/],
    [
      { RAW_EVENTS_RETENTION_MONTHS: '0' },
      /^RAW_EVENTS_RETENTION_MONTHS must be an integer from 1 to 1200 \(got "0"\)/,
    ],
    [
      { DATABASE_URL: 'postgres://u@h/db', DATABASE_INGEST_CONCURRENCY: '0' },
      /^DATABASE_INGEST_CONCURRENCY must be an integer from 1 to 200/,
    ],
    [{ REDIS_URL: 'localhost:6379' }, /^REDIS_URL must start with redis:\/\/ or rediss:\/\//],
    [{ REDIS_URL: 'redis://h', REDIS_KEY_PREFIX: 'a b' }, /^REDIS_KEY_PREFIX must be/],
    [{ DATABASE_URL: 'postgres://u@h/db', DATABASE_POOL_MODE: 'statement' }, /^DATABASE_POOL_MODE must be one of/],
  ];
  for (const [env, message] of bad) {
    it(`rejects ${JSON.stringify(env)} with one clear line`, () => {
      assert.throws(
        () => loadConfig(env),
        (error: unknown) => {
          assert.ok(error instanceof ConfigError);
          assert.match(error.message, message);
          return true;
        },
      );
    });
  }
});
