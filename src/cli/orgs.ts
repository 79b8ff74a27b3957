import type { Command } from 'commander';
import { organizationView } from '../modules/orgs/orgs.routes.ts';
import { createOrganization } from '../modules/orgs/orgs.service.ts';
import { output, withStorage } from './context.ts';

export function orgsCommand(program: Command): void {
  const orgs = program.command('orgs').description('Manage organizations');
  orgs
    .command('create')
    .description('Create an organization')
    .requiredOption('--name <name>', 'organization name')
    .option('--id <org_id>', 'keep an existing id (org_…) instead of generating one')
    .option('--json', 'print one JSON object')
    .action(async (options: { name: string; id?: string; json?: boolean }) => {
      const org = await withStorage((storage) =>
        createOrganization(storage.db, { name: options.name, id: options.id }, Date.now()),
      );
      output(Boolean(options.json), organizationView(org), [`Created organization ${org.id} (${org.name})`]);
    });
}
