/**
 * `freddy-analytics import FILE`: loads usage events from NDJSON or CSV through the same
 * ingestion code as POST /v1/usage/events, in batches of 1000. Event ids make it idempotent:
 * importing a file again counts every event as a duplicate. A bad line is reported with its
 * line number and skipped; the rest of the file is still imported.
 */
import fs from 'node:fs';
import cliProgress from 'cli-progress';
import { type Command, InvalidArgumentError } from 'commander';
import { AppError } from '../errors.ts';
import { OPERATOR } from '../modules/auth/principal.ts';
import type { UsageEventInput } from '../modules/ingestion/event-input.ts';
import { MAX_BATCH } from '../modules/ingestion/ingestion.schemas.ts';
import {
  type IngestionContext,
  type IngestResult,
  ingestUsage,
  rejectedIndexes,
} from '../modules/ingestion/ingestion.service.ts';
import { output, withContext } from './context.ts';
import { formatOfFile, type ImportFormat, readEvents } from './import-source.ts';

/** Exit code when the file had bad lines (the good ones are imported). */
export const EXIT_BAD_LINES = 2;

export interface ImportSummary {
  accepted: number;
  duplicates: number;
  badLines: number;
  /** Accepted events that stated no cost and whose model has no price (stored with cost 0), per model. */
  unpriced: Map<string, number>;
}

export interface ImportOptions {
  format: ImportFormat;
  /** A bad line: its number in the file and why it was skipped. */
  onBadLine: (line: number, reason: string) => void;
  onProgress?: (bytesRead: number) => void;
  batchSize?: number;
}

interface Pending {
  line: number;
  event: UsageEventInput;
}

export async function importFile(ctx: IngestionContext, file: string, options: ImportOptions): Promise<ImportSummary> {
  const summary: ImportSummary = { accepted: 0, duplicates: 0, badLines: 0, unpriced: new Map() };
  // Lines refused since the last batch was written: reported with the batch's own refusals, in
  // file order, once it is written.
  let refused: Array<{ line: number; reason: string }> = [];
  let batch: Pending[] = [];
  const flush = async () => {
    const events = new Map(batch.map((p) => [p.event.id, p.event.model]));
    const result = await ingestBatch(ctx, batch, (line, reason) => refused.push({ line, reason }));
    summary.accepted += result.accepted;
    summary.duplicates += result.duplicates;
    for (const id of result.unpriced) {
      const model = events.get(id) ?? 'unknown';
      summary.unpriced.set(model, (summary.unpriced.get(model) ?? 0) + 1);
    }
    for (const { line, reason } of refused.sort((a, b) => a.line - b.line)) options.onBadLine(line, reason);
    summary.badLines += refused.length;
    refused = [];
    batch = [];
  };
  for await (const item of readEvents(file, options.format, options.onProgress)) {
    if ('error' in item) refused.push({ line: item.line, reason: item.error });
    else batch.push(item);
    if (batch.length >= (options.batchSize ?? MAX_BATCH)) await flush();
  }
  await flush();
  return summary;
}

/**
 * Ingests a batch. The service rejects a batch as a whole when any event is bad (unknown
 * organization, bad cost, …) and names each by index: those are reported by line and the
 * rest is sent again.
 */
async function ingestBatch(
  ctx: IngestionContext,
  batch: Pending[],
  bad: (line: number, reason: string) => void,
): Promise<IngestResult> {
  let pending = batch;
  while (pending.length > 0) {
    try {
      return await ingestUsage(
        ctx,
        OPERATOR,
        pending.map((p) => p.event),
        Date.now(),
      );
    } catch (error) {
      const rejected = rejectedIndexes(error);
      if (!rejected) throw error;
      for (const [index, reason] of rejected) bad(pending[index]!.line, reason);
      pending = pending.filter((_, index) => !rejected.has(index));
    }
  }
  return { accepted: 0, duplicates: 0, unpriced: [] };
}

function formatOption(value: string): ImportFormat {
  if (value !== 'ndjson' && value !== 'csv') throw new InvalidArgumentError('expected ndjson or csv');
  return value;
}

export function importCommand(program: Command): void {
  program
    .command('import <file>')
    .description('Import usage events from an NDJSON or CSV file (the fields of POST /v1/usage/events events)')
    .option('--format <format>', 'ndjson or csv (default: from the extension .ndjson, .jsonl or .csv)', formatOption)
    .option('--json', 'print the summary as one JSON object')
    .addHelpText(
      'after',
      `
NDJSON: one event object per line. CSV: a header row naming the fields
(id,organization_id,api_key_id,model,neurons,synapses,cost,timestamp, and optionally
cached_neurons,cache_write_neurons,reasoning_synapses,end_user); each tag is a column
tag.<key> (tag.feature,tag.team); empty cells are absent.
Events are stored in batches of ${MAX_BATCH}; an event id already known counts as a duplicate,
so importing a file again changes nothing. Bad lines are reported on stderr with their line
number and skipped.

Exit codes: 0 every line imported (or a duplicate), ${EXIT_BAD_LINES} some lines were bad (the others
were imported), 1 the import could not run (unreadable file, database error).`,
    )
    .action(async (file: string, options: { format?: ImportFormat; json?: boolean }) => {
      const format = options.format ?? formatOfFile(file);
      if (!format) {
        throw new AppError('INVALID_REQUEST', {
          systemMessage: `cannot tell the format of ${file} from its extension: give --format ndjson or --format csv`,
        });
      }
      const size = fs.statSync(file).size;
      const bar = process.stderr.isTTY
        ? new cliProgress.SingleBar(
            { stream: process.stderr, format: 'importing [{bar}] {percentage}% | {value}/{total} bytes' },
            cliProgress.Presets.shades_classic,
          )
        : undefined;
      bar?.start(size, 0);
      const started = performance.now();
      const summary = await withContext((ctx) =>
        importFile(ctx, file, {
          format,
          onProgress: (bytes) => bar?.update(bytes),
          onBadLine: (line, reason) => {
            // Clears the bar's line first; the bar redraws itself below on its next update.
            process.stderr.write(`${bar ? '\r\x1b[K' : ''}${file}:${line}: ${reason}\n`);
          },
        }),
      ).finally(() => bar?.stop());
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      const unpriced = [...summary.unpriced].sort(([a], [b]) => (a < b ? -1 : 1));
      const unpricedCount = unpriced.reduce((sum, [, n]) => sum + n, 0);
      const lines = [
        `Imported ${summary.accepted} events (${summary.duplicates} duplicates, ${summary.badLines} bad lines) from ${file} in ${seconds} s`,
        ...(unpricedCount > 0
          ? [
              `${unpricedCount} of them stated no cost and have no price (stored with cost 0): ${unpriced.map(([m, n]) => `${m} (${n})`).join(', ')}`,
              'Add their prices (freddy-analytics prices set) and reprice them (freddy-analytics reprice).',
            ]
          : []),
      ];
      output(
        Boolean(options.json),
        {
          file,
          accepted: summary.accepted,
          duplicates: summary.duplicates,
          bad_lines: summary.badLines,
          unpriced: { events: unpricedCount, models: Object.fromEntries(unpriced) },
          seconds: Number(seconds),
        },
        lines,
      );
      if (summary.badLines > 0) process.exitCode = EXIT_BAD_LINES;
    });
}
