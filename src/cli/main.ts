/** The `freddy-analytics` command line. One file per command group. */
import fs from 'node:fs';
import { Command } from 'commander';
import { loadConfig } from '../config.ts';
import { fromRoot } from '../project-root.ts';
import { migrateToLatest } from '../storage/migrate.ts';
import { openStorage } from '../storage/storage.ts';
import { consumeCommand } from './consume.ts';
import { fail } from './context.ts';
import { demoCommand } from './demo.ts';
import { importCommand } from './import.ts';
import { keysCommand } from './keys.ts';
import { orgsCommand } from './orgs.ts';
import { pricesCommand } from './prices.ts';
import { reportCommand } from './report.ts';
import { repriceCommand } from './reprice.ts';
import { verifyCommand } from './verify.ts';

const { version } = JSON.parse(fs.readFileSync(fromRoot('package.json'), 'utf8')) as { version: string };

const program = new Command()
  .name('freddy-analytics')
  .description('Usage metering, cost analytics and spend limits for AI API platforms')
  .version(version, '-V, --version', 'print the version');

program
  .command('serve')
  .description('Run the HTTP API (PORT, HOST, DATABASE_URL from the environment)')
  .action(async () => (await import('../main.ts')).serve(loadConfig()));

program
  .command('migrate')
  .description('Bring the database schema up to date')
  .action(async () => {
    const storage = await openStorage(loadConfig().database);
    const applied = await migrateToLatest(storage).finally(() => storage.close());
    process.stdout.write(applied.length ? `Applied ${applied.join(', ')}\n` : 'Schema is up to date\n');
  });

orgsCommand(program);
keysCommand(program);
pricesCommand(program);
repriceCommand(program);
verifyCommand(program);
importCommand(program);
reportCommand(program);
demoCommand(program);
consumeCommand(program);

/**
 * A wrong argument prints one line saying what is wrong (commander's), then the usage of the
 * command it was given to, not the whole help.
 */
function usageAfterErrors(command: Command, path: string[]): void {
  const name = [...path, command.name()];
  command.showHelpAfterError(`Usage: ${name.join(' ')} ${command.usage()}\n(${name.join(' ')} --help for more)`);
  for (const sub of command.commands) usageAfterErrors(sub, name);
}
usageAfterErrors(program, []);

program.parseAsync(process.argv).catch(fail);
