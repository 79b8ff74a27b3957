/**
 * `freddy-analytics consume`: a process that only ingests usage from NATS JetStream, with the
 * same consumer as `serve` (INGEST_NATS_URL), and no HTTP. SIGTERM or SIGINT drains it: the
 * batches in flight commit and are acknowledged, then it exits 0.
 */
import type { Command } from 'commander';
import { ConfigError, loadConfig } from '../config.ts';
import { openContext } from '../context.ts';
import type { QueueLog } from '../modules/ingestion/queue.ts';
import { migrateToLatest } from '../storage/migrate.ts';
import { fail } from './context.ts';

/** One JSON line per event on standard error, as the server's log lines. */
function jsonLog(): QueueLog {
  const line = (level: number) => (fields: object, msg: string) => {
    const err = (fields as { err?: unknown }).err;
    const rest = err instanceof Error ? { ...fields, err: { message: err.message } } : fields;
    process.stderr.write(`${JSON.stringify({ level, time: Date.now(), ...rest, msg })}\n`);
  };
  return { info: line(30), warn: line(40), error: line(50) };
}

export function consumeCommand(program: Command): void {
  program
    .command('consume')
    .description('Ingest usage events from NATS JetStream only, without serving HTTP (INGEST_NATS_URL)')
    .addHelpText(
      'after',
      `
Pulls from the stream INGEST_NATS_STREAM (default FREDDY_USAGE) through the durable consumer
that every \`serve\` and \`consume\` process with the same INGEST_NATS_URL shares; see
docs/operations.md, "Queue ingestion". Runs until SIGTERM or SIGINT.`,
    )
    .action(async () => {
      const config = loadConfig();
      if (!config.ingestNats)
        throw new ConfigError('INGEST_NATS_URL must be set for consume, e.g. nats://127.0.0.1:4222');
      // Bounded as a request is: a database that hangs fails the batch, which comes back later.
      const ctx = await openContext(config);
      const log = jsonLog();
      let stopping = false;
      const stop = (signal: string) => {
        if (stopping) return;
        stopping = true;
        log.info({ signal }, 'shutting down');
        ctx.close().then(() => process.exit(0), fail);
      };
      process.once('SIGTERM', () => stop('SIGTERM'));
      process.once('SIGINT', () => stop('SIGINT'));
      await migrateToLatest(ctx.storage);
      await ctx.storage.start();
      await ctx.queue!.start(log);
      process.stderr.write(
        `freddy-analytics is consuming ${config.ingestNats.subjectPrefix}.usage.> from ${config.ingestNats.url}\n`,
      );
    });
}
