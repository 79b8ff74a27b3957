/**
 * Reads usage events from an NDJSON or CSV file as a stream, one line (or CSV record) at a
 * time, so that a file of any size is imported in constant memory. Each line is checked
 * against the same schema as a POST /v1/usage/events event; a bad line is yielded with its
 * line number and reason instead of ending the import.
 */
import fs from 'node:fs';
import readline from 'node:readline';
import type { Static } from '@sinclair/typebox';
import { Ajv, type ErrorObject } from 'ajv';
import addFormats from 'ajv-formats';
import { parse } from 'csv-parse';
import { UsageEventInput } from '../modules/ingestion/ingestion.schemas.ts';

export type ImportFormat = 'ndjson' | 'csv';

export type ImportLine = { line: number; event: Static<typeof UsageEventInput> } | { line: number; error: string };

// Body validation as the HTTP route does it: no coercion, every problem reported.
const ajv = new Ajv({ allErrors: true, strict: false });
addFormats.default(ajv, ['date-time']);
const checkEvent = ajv.compile<Static<typeof UsageEventInput>>(UsageEventInput);

/** The format named by the file's extension, or undefined when it names none. */
export function formatOfFile(file: string): ImportFormat | undefined {
  const lower = file.toLowerCase();
  if (lower.endsWith('.csv')) return 'csv';
  if (lower.endsWith('.ndjson') || lower.endsWith('.jsonl')) return 'ndjson';
  return undefined;
}

// Fields that accept one of several forms: Ajv reports each failed form; one reason reads better.
const UNION_REASONS: Record<string, string> = {
  cost: 'must be a non-negative CHF amount (a number or a decimal string)',
  api_key_id: 'must be an API key id (apikey_…) or null',
};

function describe(errors: ErrorObject[] | null | undefined): string {
  const reasons = new Map<string, string[]>();
  for (const e of errors ?? []) {
    const field = e.instancePath ? e.instancePath.slice(1).replaceAll('/', '.') : 'event';
    const reason = UNION_REASONS[field] ?? e.message ?? 'is invalid';
    const list = reasons.get(field) ?? [];
    if (!list.includes(reason)) list.push(reason);
    reasons.set(field, list);
  }
  return [...reasons].map(([field, list]) => `${field} ${list.join(', ')}`).join('; ');
}

function checked(line: number, value: unknown): ImportLine {
  if (checkEvent(value)) return { line, event: value };
  return { line, error: describe(checkEvent.errors) };
}

/** Yields every non-blank line of the file; `onProgress` gets the bytes read so far. */
export async function* readEvents(
  file: string,
  format: ImportFormat,
  onProgress: (bytesRead: number) => void = () => {},
): AsyncGenerator<ImportLine> {
  const input = fs.createReadStream(file);
  input.on('data', () => onProgress(input.bytesRead));
  if (format === 'ndjson') yield* ndjsonLines(input);
  else yield* csvRecords(input);
}

async function* ndjsonLines(input: fs.ReadStream): AsyncGenerator<ImportLine> {
  let line = 0;
  for await (const text of readline.createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })) {
    line += 1;
    if (text.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      yield { line, error: `not valid JSON (${(error as Error).message})` };
      continue;
    }
    yield checked(line, value);
  }
}

const INTEGER_FIELDS = new Set(['neurons', 'synapses']);

/** A CSV record as an event: empty cells are absent, counters become integers, cost stays a decimal string. */
function eventOfRecord(record: Record<string, string>): Record<string, unknown> {
  const event: Record<string, unknown> = {};
  for (const [field, text] of Object.entries(record)) {
    if (text === '') continue;
    event[field] = INTEGER_FIELDS.has(field) && /^-?\d+$/.test(text) ? Number(text) : text;
  }
  return event;
}

async function* csvRecords(input: fs.ReadStream): AsyncGenerator<ImportLine> {
  // Records the parser could not read (wrong column count, broken quotes) are reported in order with the rest.
  const skipped: ImportLine[] = [];
  const parser = input.pipe(
    parse({
      columns: true,
      trim: true,
      skip_empty_lines: true,
      info: true,
      skip_records_with_error: true,
      on_skip: (error) => {
        const line = (error as { lines?: number } | undefined)?.lines ?? 0;
        skipped.push({ line, error: `bad CSV row (${error?.message ?? 'unreadable'})` });
        return undefined;
      },
    }),
  );
  for await (const { record, info } of parser as AsyncIterable<{
    record: Record<string, string>;
    info: { lines: number };
  }>) {
    yield* skipped.splice(0);
    yield checked(info.lines, eventOfRecord(record));
  }
  yield* skipped.splice(0);
}
