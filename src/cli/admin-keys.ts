/**
 * The `--admin` side of `keys`: platform admin keys. Whoever runs the CLI can reach the
 * database, so it may delete the last active admin key (with --force) and create one again.
 */
import { AppError } from '../errors.ts';
import type { AdminKey } from '../modules/admin-keys/admin-keys.repository.ts';
import { adminKeyView } from '../modules/admin-keys/admin-keys.routes.ts';
import { createAdminKey, deleteAdminKey, listAdminKeyPage } from '../modules/admin-keys/admin-keys.service.ts';
import { output, withContext } from './context.ts';

/** One readable line per key; never the secret, which is not stored. */
function describeAdminKey(key: AdminKey): string {
  const view = adminKeyView(key);
  const used = view.last_used_at === null ? 'never used' : `last used ${view.last_used_at}`;
  const deleted = view.deleted_at === null ? '' : ` ${view.deleted_at}`;
  return `${key.id}  ${key.keyPrefix}…  ${key.state}${deleted}  created ${view.created_at}  ${used}  ${key.name}`;
}

/** Exactly one of --org and --admin, for commands that work on either kind of key. */
export function requireOrgOrAdmin(options: { org?: string | undefined; admin?: boolean | undefined }): void {
  if (Boolean(options.admin) === Boolean(options.org)) {
    throw new AppError('INVALID_REQUEST', { systemMessage: 'give exactly one of --org ORG or --admin' });
  }
}

export async function createAdminKeyCommand(o: { name: string; json?: boolean }): Promise<void> {
  const { adminKey, secret } = await withContext(({ storage }) => createAdminKey(storage.db, o.name, Date.now()));
  output(Boolean(o.json), { ...adminKeyView(adminKey), admin: true, key: secret }, [
    `Created admin key ${adminKey.id}. Secret (shown once):`,
    secret,
  ]);
}

export async function listAdminKeysCommand(o: {
  page: number;
  pageSize: number;
  includeDeleted?: boolean;
  json?: boolean;
}): Promise<void> {
  const pageSize = Math.min(o.pageSize, 100);
  const { keys, totalCount } = await withContext(({ storage }) =>
    listAdminKeyPage(storage.db, { page: o.page, pageSize, includeDeleted: Boolean(o.includeDeleted) }),
  );
  const pagination = {
    page: o.page,
    page_size: pageSize,
    total_count: totalCount,
    total_pages: Math.ceil(totalCount / pageSize),
  };
  output(Boolean(o.json), { admin_keys: keys.map(adminKeyView), pagination }, [
    ...keys.map(describeAdminKey),
    `page ${o.page} of ${pagination.total_pages} (${totalCount} admin keys)`,
  ]);
}

export async function deleteAdminKeyCommand(keyId: string, o: { force?: boolean; json?: boolean }): Promise<void> {
  const { adminKey, activeLeft } = await withContext(async (ctx) => {
    const deleted = await deleteAdminKey(ctx.storage, keyId, Date.now(), { allowLast: Boolean(o.force) });
    await ctx.keyChanged(deleted.adminKey.id);
    return deleted;
  });
  output(Boolean(o.json), adminKeyView(adminKey), [`${adminKey.id} is now deleted`]);
  if (activeLeft === 0) {
    process.stderr.write(
      'No active platform admin key is left, and the server does not create one by itself: ' +
        'create one with `freddy-analytics keys create --admin --name NAME`.\n',
    );
  }
}
