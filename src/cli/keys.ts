import { type Command, InvalidArgumentError } from 'commander';
import { AppError } from '../errors.ts';
import type { ApiKey } from '../modules/api-keys/api-keys.repository.ts';
import { apiKeyView, limitFromInput } from '../modules/api-keys/api-keys.routes.ts';
import {
  changeApiKey,
  createAdminKey,
  createApiKey,
  listOrganizationKeys,
  requireManagedKey,
  setApiKeyState,
} from '../modules/api-keys/api-keys.service.ts';
import { SCOPES, type Scope } from '../modules/api-keys/scopes.ts';
import { isoSeconds, parseIsoTime } from '../time/calendar.ts';
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
  const ms = parseIsoTime(value);
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
  createdAt?: number;
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
    .option(
      '--created-at <iso-time>',
      'since when the key exists (default now): events dated before it are refused; set it to import past usage',
      isoTime,
    )
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
            createdAt: options.createdAt,
          },
          now,
        ),
      );
      output(Boolean(options.json), { ...apiKeyView(apiKey), key: secret }, [
        `Created API key ${apiKey.id} for ${apiKey.organizationId} (scopes: ${apiKey.scopes.join(', ')}). Secret (shown once):`,
        secret,
      ]);
    });
  keysManagementCommands(keys);
}

function positiveInteger(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new InvalidArgumentError('expected a positive integer');
  return Number(value);
}

/** One readable line per key; never the secret, which is not stored. */
function describeKey(key: ApiKey): string {
  const state = key.state === 'active' && key.expiresAt !== null && key.expiresAt <= Date.now() ? 'expired' : key.state;
  const limit = key.monthlyLimitNano === null ? 'no limit' : `limit ${apiKeyView(key).usage_limit_chf} CHF/month`;
  return `${key.id}  ${key.keyPrefix}…  ${state}  ${limit}  [${key.scopes.join(', ')}]  ${key.name}`;
}

function keysManagementCommands(keys: Command): void {
  keys
    .command('list')
    .description("List an organization's API keys, newest first")
    .requiredOption('--org <org_id>', 'organization')
    .option('--page <n>', 'page number', positiveInteger, 1)
    .option('--page-size <n>', 'keys per page (at most 100)', positiveInteger, 20)
    .option('--include-deleted', 'also list deleted keys')
    .option('--json', 'print one JSON object')
    .action(async (o: { org: string; page: number; pageSize: number; includeDeleted?: boolean; json?: boolean }) => {
      const pageSize = Math.min(o.pageSize, 100);
      const { keys: page, totalCount } = await withStorage((storage) =>
        listOrganizationKeys(storage.db, o.org, { page: o.page, pageSize, includeDeleted: Boolean(o.includeDeleted) }),
      );
      const pagination = {
        page: o.page,
        page_size: pageSize,
        total_count: totalCount,
        total_pages: Math.ceil(totalCount / pageSize),
      };
      output(Boolean(o.json), { api_keys: page.map(apiKeyView), pagination }, [
        ...page.map(describeKey),
        `page ${o.page} of ${pagination.total_pages} (${totalCount} keys)`,
      ]);
    });

  keys
    .command('show <key_id>')
    .description('Show one API key')
    .requiredOption('--org <org_id>', 'organization')
    .option('--json', 'print one JSON object')
    .action(async (keyId: string, o: { org: string; json?: boolean }) => {
      const key = await withStorage((storage) => requireManagedKey(storage.db, o.org, keyId));
      output(Boolean(o.json), apiKeyView(key), [describeKey(key)]);
    });

  keys
    .command('update <key_id>')
    .description('Change the name, scopes, monthly limit or expiry of an API key')
    .requiredOption('--org <org_id>', 'organization')
    .option('--name <name>', 'new name')
    .option('--scopes <list>', `comma-separated scopes (${SCOPES.join(', ')})`, scopeList)
    .option('--limit <chf>', 'monthly spend limit in CHF, or "none"')
    .option('--expires <iso-time>', 'expiry time, or "never"', (v: string) => (v === 'never' ? null : isoTime(v)))
    .option('--json', 'print one JSON object')
    .action(async (keyId: string, o: UpdateOptions) => {
      if ([o.name, o.scopes, o.limit, o.expires].every((v) => v === undefined)) {
        throw new AppError('INVALID_REQUEST', {
          systemMessage: 'give at least one of --name, --scopes, --limit, --expires',
        });
      }
      const key = await withStorage((storage) =>
        changeApiKey(storage.db, o.org, keyId, {
          name: o.name,
          scopes: o.scopes,
          monthlyLimitNano: o.limit === 'none' ? null : limitFromInput('--limit', o.limit),
          expiresAt: o.expires,
        }),
      );
      output(Boolean(o.json), apiKeyView(key), [`Updated ${describeKey(key)}`]);
    });

  for (const [name, state, description] of [
    ['activate', 'active', 'Activate an API key (a deleted key cannot be activated)'],
    ['deactivate', 'deactivated', 'Deactivate an API key until it is activated again'],
    ['delete', 'deleted', 'Delete an API key for good; its usage history stays'],
  ] as const) {
    keys
      .command(`${name} <key_id>`)
      .description(description)
      .requiredOption('--org <org_id>', 'organization')
      .option('--json', 'print one JSON object')
      .action(async (keyId: string, o: { org: string; json?: boolean }) => {
        const key = await withStorage((storage) => setApiKeyState(storage.db, o.org, keyId, state, Date.now()));
        output(Boolean(o.json), apiKeyView(key), [`${key.id} is now ${state}`]);
      });
  }
}

interface UpdateOptions {
  org: string;
  name?: string;
  scopes?: Scope[];
  limit?: string;
  expires?: number | null;
  json?: boolean;
}
