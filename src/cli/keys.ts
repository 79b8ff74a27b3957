import { type Command, InvalidArgumentError } from 'commander';
import { AppError } from '../errors.ts';
import { apiKeyView, limitFromInput } from '../modules/api-keys/api-keys.routes.ts';
import { createAdminKey, createApiKey } from '../modules/api-keys/api-keys.service.ts';
import { SCOPES, type Scope } from '../modules/api-keys/scopes.ts';
import { isoSeconds } from '../time/calendar.ts';
import { output, withStorage } from './context.ts';

function scopeList(value: string): Scope[] {
  const scopes = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = scopes.filter((s) => !(SCOPES as readonly string[]).includes(s));
  if (unknown.length > 0 || scopes.length === 0) {
    throw new InvalidArgumentError(`scopes are a comma-separated list of ${SCOPES.join(', ')}`);
  }
  return scopes as Scope[];
}

function isoTime(value: string): number {
  const ms = Date.parse(value);
  if (!Number.isFinite(ms)) throw new InvalidArgumentError('expected an ISO-8601 time, e.g. 2026-12-31T23:59:59Z');
  return ms;
}

interface CreateOptions {
  org?: string;
  admin?: boolean;
  name: string;
  scopes?: Scope[];
  limit?: string;
  expires?: number;
  json?: boolean;
}

export function keysCommand(program: Command): void {
  const keys = program.command('keys').description('Manage API keys');
  keys
    .command('create')
    .description('Create an API key of an organization, or a platform admin key with --admin; prints the secret once')
    .option('--org <org_id>', 'organization the key belongs to')
    .option('--admin', 'create a platform admin key (belongs to no organization)')
    .requiredOption('--name <name>', 'key name')
    .option('--scopes <list>', `comma-separated scopes (${SCOPES.join(', ')})`, scopeList)
    .option('--limit <chf>', 'monthly spend limit in CHF')
    .option('--expires <iso-time>', 'expiry time', isoTime)
    .option('--json', 'print one JSON object')
    .action(async (options: CreateOptions) => {
      if (Boolean(options.admin) === Boolean(options.org)) {
        throw new AppError('INVALID_REQUEST', { systemMessage: 'give exactly one of --org ORG or --admin' });
      }
      const now = Date.now();
      if (options.admin) {
        const { adminKey, secret } = await withStorage((storage) => createAdminKey(storage.db, options.name, now));
        const view = {
          id: adminKey.id,
          key_prefix: adminKey.keyPrefix,
          key_name: adminKey.name,
          admin: true,
          created_at: isoSeconds(adminKey.createdAt),
          key: secret,
        };
        output(Boolean(options.json), view, [`Created admin key ${adminKey.id}. Secret (shown once):`, secret]);
        return;
      }
      const { apiKey, secret } = await withStorage((storage) =>
        createApiKey(
          storage.db,
          options.org!,
          {
            name: options.name,
            scopes: options.scopes,
            monthlyLimitNano: limitFromInput('--limit', options.limit),
            expiresAt: options.expires ?? null,
          },
          now,
        ),
      );
      output(Boolean(options.json), { ...apiKeyView(apiKey), key: secret }, [
        `Created API key ${apiKey.id} for ${apiKey.organizationId} (scopes: ${apiKey.scopes.join(', ')}). Secret (shown once):`,
        secret,
      ]);
    });
}
