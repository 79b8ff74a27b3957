import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AppError } from '../errors.ts';
import { databaseUnavailable, endsSession } from './failures.ts';

const withCode = (code: string, message = 'error') => Object.assign(new Error(message), { code });

describe('databaseUnavailable', () => {
  const cases: Array<[string, unknown, 'lost' | 'time' | undefined]> = [
    ['terminated by an administrator (57P01)', withCode('57P01'), 'lost'],
    ['server crash (57P02)', withCode('57P02'), 'lost'],
    ['server starting up (57P03)', withCode('57P03'), 'lost'],
    ['idle_session_timeout (57P05)', withCode('57P05'), 'lost'],
    ['idle in transaction too long (25P03)', withCode('25P03'), 'lost'],
    ['too many connections (53300)', withCode('53300'), 'lost'],
    ['connection failure (08006)', withCode('08006'), 'lost'],
    ['socket reset', withCode('ECONNRESET'), 'lost'],
    ['server not listening', withCode('ECONNREFUSED'), 'lost'],
    ['socket closed under a query', new Error('Connection terminated unexpectedly'), 'lost'],
    ['client already failed', new Error('Client has encountered a connection error and is not queryable'), 'lost'],
    ['no pooled connection in time', new Error('timeout exceeded when trying to connect'), 'lost'],
    ['statement_timeout (57014)', withCode('57014'), 'time'],
    ['lock_timeout (55P03)', withCode('55P03'), 'time'],
    ['SQLite busy timeout', withCode('SQLITE_BUSY', 'database is locked'), 'time'],
    ['SQLite busy snapshot', withCode('SQLITE_BUSY_SNAPSHOT'), 'time'],
    ['unique violation (23505)', withCode('23505'), undefined],
    ['deadlock (40P01): retried, not unavailable', withCode('40P01'), undefined],
    ['SQLite constraint', withCode('SQLITE_CONSTRAINT_PRIMARYKEY'), undefined],
    ['a programming error', new TypeError('x is undefined'), undefined],
    ['not an error', { code: '57P01' }, undefined],
    ['an AppError', new AppError('INVALID_REQUEST'), undefined],
  ];
  for (const [name, error, expected] of cases) {
    it(`${name}: ${expected ?? 'not unavailable'}`, () => {
      const answer = databaseUnavailable(error);
      if (expected === undefined) return assert.equal(answer, undefined);
      assert.equal(answer?.code, 'SERVICE_UNAVAILABLE');
      assert.match(answer.systemMessage ?? '', expected === 'lost' ? /connection .* lost/ : /time limit/);
      assert.doesNotMatch(answer.systemMessage ?? '', /SQLITE|57|terminat/, 'says nothing of the engine');
    });
  }
});

describe('endsSession', () => {
  it('knows the SQLSTATEs after which PostgreSQL closes the session', () => {
    for (const code of ['57P01', '57P02', '57P03', '57P05', '25P03', '08000', '08006'])
      assert.ok(endsSession(code), code);
    for (const code of ['57014', '55P03', '40001', '23505', undefined, 42]) assert.ok(!endsSession(code), String(code));
  });
});
