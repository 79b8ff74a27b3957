import { type Command, InvalidArgumentError } from 'commander';
import type { Organization } from '../modules/orgs/orgs.repository.ts';
import { organizationView } from '../modules/orgs/orgs.routes.ts';
import {
  createOrganization,
  organizationPage,
  renameOrganizationTo,
  requireOrganization,
} from '../modules/orgs/orgs.service.ts';
import { output, withContext } from './context.ts';

function positiveInteger(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new InvalidArgumentError('expected a positive integer');
  return Number(value);
}

function describe(org: Organization): string {
  return `${org.id}  ${organizationView(org).created_at}  ${org.name}`;
}

export function orgsCommand(program: Command): void {
  const orgs = program.command('orgs').description('Manage organizations');
  orgs
    .command('create')
    .description('Create an organization')
    .requiredOption('--name <name>', 'organization name')
    .option('--id <org_id>', 'keep an existing id (org_…) instead of generating one')
    .option('--json', 'print one JSON object')
    .action(async (options: { name: string; id?: string; json?: boolean }) => {
      const org = await withContext(({ storage }) =>
        createOrganization(storage.db, { name: options.name, id: options.id }, Date.now()),
      );
      output(Boolean(options.json), organizationView(org), [`Created organization ${org.id} (${org.name})`]);
    });

  orgs
    .command('list')
    .description('List the organizations, oldest first')
    .option('--page <n>', 'page number', positiveInteger, 1)
    .option('--page-size <n>', 'organizations per page (at most 100)', positiveInteger, 20)
    .option('--json', 'print one JSON object')
    .action(async (o: { page: number; pageSize: number; json?: boolean }) => {
      const pageSize = Math.min(o.pageSize, 100);
      const { organizations, totalCount } = await withContext(({ storage }) =>
        organizationPage(storage.db, o.page, pageSize),
      );
      const pagination = {
        page: o.page,
        page_size: pageSize,
        total_count: totalCount,
        total_pages: Math.ceil(totalCount / pageSize),
      };
      output(Boolean(o.json), { organizations: organizations.map(organizationView), pagination }, [
        ...organizations.map(describe),
        `page ${o.page} of ${pagination.total_pages} (${totalCount} organizations)`,
      ]);
    });

  orgs
    .command('show <org_id>')
    .description('Show one organization')
    .option('--json', 'print one JSON object')
    .action(async (orgId: string, o: { json?: boolean }) => {
      const org = await withContext(({ storage }) => requireOrganization(storage.db, orgId));
      output(Boolean(o.json), organizationView(org), [describe(org)]);
    });

  orgs
    .command('rename <org_id>')
    .description('Give an organization a new name (its id never changes)')
    .requiredOption('--name <name>', 'the new name')
    .option('--json', 'print one JSON object')
    .action(async (orgId: string, o: { name: string; json?: boolean }) => {
      const org = await withContext(({ storage }) => renameOrganizationTo(storage.db, orgId, o.name));
      output(Boolean(o.json), organizationView(org), [`Renamed ${org.id} to ${org.name}`]);
    });
}
