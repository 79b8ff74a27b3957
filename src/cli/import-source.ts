/**
 * Reads usage events from an NDJSON or CSV file as a stream, one line (or CSV record) at a
 * time, so that a file of any size is imported in constant memory. Each line is checked
 * against the same schema as a POST /v1/usage/events event, and against the same rule for text
 * (valid UTF-8, no lone surrogates, no NUL; see src/text/storable-text.ts) with the same reasons; a
 * bad line is yielded with its line number and reason instead of ending the import.
 */
import { isUtf8 } from 'node:buffer';
import fs from 'node:fs';
import { Readable } from 'node:stream';
import type { Static } from '@sinclair/typebox';
import { Ajv, type ErrorObject } from 'ajv';
import addFormats from 'ajv-formats';
import { parse } from 'csv-parse';
import { UsageEventInput } from '../modules/ingestion/ingestion.schemas.ts';
import { TEXT_REASONS, unstorableText } from '../text/storable-text.ts';

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
  const text = unstorableText(value, 'event');
  if (text.length > 0) return { line, error: text.map((e) => `${e.field} ${e.reason}`).join('; ') };
  if (checkEvent(value)) return { line, event: value };
  return { line, error: describe(checkEvent.errors) };
}

const NOT_UTF8 = `event ${TEXT_REASONS.utf8}`;

interface Line {
  number: number;
  /** The line as decoded, without its '\n'; invalid UTF-8 decoded with replacement characters. */
  text: string;
  utf8: boolean;
}

/**
 * The lines of a byte stream, split at '\n' before decoding (a byte that cannot be part of a
 * multi-byte UTF-8 character), so that each line's bytes are checked for valid UTF-8 on their own:
 * a decoder would silently replace invalid bytes. Yields the complete lines of each chunk read.
 */
async function* linesOf(input: fs.ReadStream): AsyncGenerator<Line[]> {
  let number = 0;
  let partial: Buffer[] = [];
  const line = (bytes: Buffer): Line => ({ number: ++number, text: bytes.toString('utf8'), utf8: isUtf8(bytes) });
  for await (const chunk of input as AsyncIterable<Buffer>) {
    const lines: Line[] = [];
    let start = 0;
    for (let end = chunk.indexOf(10); end !== -1; end = chunk.indexOf(10, start)) {
      const piece = chunk.subarray(start, end);
      lines.push(line(partial.length > 0 ? Buffer.concat([...partial, piece]) : piece));
      partial = [];
      start = end + 1;
    }
    if (start < chunk.length) partial.push(chunk.subarray(start));
    yield lines;
  }
  if (partial.length > 0) yield [line(Buffer.concat(partial))];
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
  for await (const lines of linesOf(input)) {
    for (const { number: line, text, utf8 } of lines) {
      if (text.trim() === '') continue;
      if (!utf8) {
        yield { line, error: NOT_UTF8 };
        continue;
      }
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
  // The parser reads the lines as decoded; a record is bad if one of its lines was not valid UTF-8.
  // Lines are read ahead of the records, so those of a record are known by the time it is parsed.
  const notUtf8: number[] = [];
  const decoded = Readable.from(
    (async function* () {
      for await (const lines of linesOf(input)) {
        for (const line of lines) if (!line.utf8) notUtf8.push(line.number);
        if (lines.length > 0) yield `${lines.map((line) => line.text).join('\n')}\n`;
      }
    })(),
  );
  /** Whether a line up to `last` (a record's last line) was not valid UTF-8; each such line counts once. */
  const brokenUpTo = (last: number) => {
    let broken = false;
    while (notUtf8.length > 0 && notUtf8[0]! <= last) {
      notUtf8.shift();
      broken = true;
    }
    return broken;
  };
  // Records the parser could not read (wrong column count, broken quotes) are reported in order with the rest.
  const skipped: ImportLine[] = [];
  const parser = decoded.pipe(
    parse({
      columns: true,
      trim: true,
      skip_empty_lines: true,
      info: true,
      skip_records_with_error: true,
      on_skip: (error) => {
        const line = (error as { lines?: number } | undefined)?.lines ?? 0;
        brokenUpTo(line);
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
    yield brokenUpTo(info.lines) ? { line: info.lines, error: NOT_UTF8 } : checked(info.lines, eventOfRecord(record));
  }
  yield* skipped.splice(0);
}
