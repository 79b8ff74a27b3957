import { type Command, InvalidArgumentError } from 'commander';
import { AppError } from '../errors.ts';
import type { ApiKey } from '../modules/api-keys/api-keys.repository.ts';
import { apiKeyView, limitFromInput } from '../modules/api-keys/api-keys.routes.ts';
import {
  changeApiKey,
  createApiKey,
  listOrganizationKeys,
  requireManagedKey,
  setApiKeyState,
} from '../modules/api-keys/api-keys.service.ts';
import { SCOPES, type Scope } from '../modules/api-keys/scopes.ts';
import { OPERATOR } from '../modules/auth/principal.ts';
import { parseIsoTime } from '../time/calendar.ts';
import { createAdminKeyCommand, deleteAdminKeyCommand, listAdminKeysCommand, requireOrgOrAdmin } from './admin-keys.ts';
import { announced, output, withContext } from './context.ts';

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
      requireOrgOrAdmin(options);
      if (options.admin) return createAdminKeyCommand(options);
      const now = Date.now();
      const { apiKey, secret } = await withContext(({ storage }) =>
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
          OPERATOR,
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
    .description("List an organization's API keys, or the platform admin keys with --admin, newest first")
    .option('--org <org_id>', 'organization')
    .option('--admin', 'list platform admin keys')
    .option('--page <n>', 'page number', positiveInteger, 1)
    .option('--page-size <n>', 'keys per page (at most 100)', positiveInteger, 20)
    .option('--include-deleted', 'also list deleted keys')
    .option('--json', 'print one JSON object')
    .action(async (o: ListOptions) => {
      requireOrgOrAdmin(o);
      if (o.admin) return listAdminKeysCommand(o);
      const pageSize = Math.min(o.pageSize, 100);
      const { keys: page, totalCount } = await withContext(({ storage }) =>
        listOrganizationKeys(storage.db, o.org!, { page: o.page, pageSize, includeDeleted: Boolean(o.includeDeleted) }),
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
      const key = await withContext(({ storage }) => requireManagedKey(storage.db, o.org, keyId));
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
      const key = await withContext((ctx) =>
        changeApiKey(
          ctx.storage.db,
          o.org,
          keyId,
          {
            name: o.name,
            scopes: o.scopes,
            monthlyLimitNano: o.limit === 'none' ? null : limitFromInput('--limit', o.limit),
            expiresAt: o.expires,
          },
          OPERATOR,
        ).then(announced(ctx)),
      );
      output(Boolean(o.json), apiKeyView(key), [`Updated ${describeKey(key)}`]);
    });

  for (const [name, state, description] of [
    ['activate', 'active', 'Activate an API key (a deleted key cannot be activated)'],
    ['deactivate', 'deactivated', 'Deactivate an API key until it is activated again'],
  ] as const) {
    keys
      .command(`${name} <key_id>`)
      .description(description)
      .requiredOption('--org <org_id>', 'organization')
      .option('--json', 'print one JSON object')
      .action(async (keyId: string, o: { org: string; json?: boolean }) => {
        const key = await withContext((ctx) =>
          setApiKeyState(ctx, o.org, keyId, state, Date.now()).then(announced(ctx)),
        );
        output(Boolean(o.json), apiKeyView(key), [`${key.id} is now ${state}`]);
      });
  }

  keys
    .command('delete <key_id>')
    .description(
      'Delete an API key for good (its usage history stays), or a platform admin key with --admin (the last active one only with --force)',
    )
    .option('--org <org_id>', 'organization')
    .option('--admin', 'the key is a platform admin key')
    .option('--force', 'with --admin: delete it even if it is the last active admin key')
    .option('--json', 'print one JSON object')
    .action(async (keyId: string, o: { org?: string; admin?: boolean; force?: boolean; json?: boolean }) => {
      requireOrgOrAdmin(o);
      if (o.admin) return deleteAdminKeyCommand(keyId, o);
      if (o.force) throw new AppError('INVALID_REQUEST', { systemMessage: '--force applies to --admin only' });
      const key = await withContext((ctx) =>
        setApiKeyState(ctx, o.org!, keyId, 'deleted', Date.now()).then(announced(ctx)),
      );
      output(Boolean(o.json), apiKeyView(key), [`${key.id} is now deleted`]);
    });
}

interface ListOptions {
  org?: string;
  admin?: boolean;
  page: number;
  pageSize: number;
  includeDeleted?: boolean;
  json?: boolean;
}

interface UpdateOptions {
  org: string;
  name?: string;
  scopes?: Scope[];
  limit?: string;
  expires?: number | null;
  json?: boolean;
}
