/**
 * Reads usage events from an NDJSON or CSV file as a stream, one line (or CSV record) at a
 * time, so that a file of any size is imported in constant memory. Each line is checked as a
 * POST /v1/usage/events event is (modules/ingestion/event-input.ts), and against the same rule for text
 * (valid UTF-8, no lone surrogates, no NUL; see src/text/storable-text.ts) with the same reasons; a
 * bad line is yielded with its line number and reason instead of ending the import.
 */
import { isUtf8 } from 'node:buffer';
import fs from 'node:fs';
import { Readable } from 'node:stream';
import { parse } from 'csv-parse';
import { checkEventShape, type UsageEventInput } from '../modules/ingestion/event-input.ts';
import { nestedTooDeep, TOO_DEEP } from '../text/json-nesting.ts';
import { TEXT_REASONS, unstorableText } from '../text/storable-text.ts';

export type ImportFormat = 'ndjson' | 'csv';

export type ImportLine = { line: number; event: UsageEventInput } | { line: number; error: string };

/** The format named by the file's extension, or undefined when it names none. */
export function formatOfFile(file: string): ImportFormat | undefined {
  const lower = file.toLowerCase();
  if (lower.endsWith('.csv')) return 'csv';
  if (lower.endsWith('.ndjson') || lower.endsWith('.jsonl')) return 'ndjson';
  return undefined;
}

function checked(line: number, value: unknown): ImportLine {
  const text = unstorableText(value, 'event');
  if (text.length > 0) return { line, error: text.map((e) => `${e.field} ${e.reason}`).join('; ') };
  const shape = checkEventShape(value);
  if ('event' in shape) return { line, event: shape.event };
  return { line, error: shape.errors.map((e) => `${e.field} ${e.reason}`).join('; ') };
}

const NOT_UTF8 = `event ${TEXT_REASONS.utf8}`;

/** Whole lines of a file as read, and which of them are not valid UTF-8. */
interface Lines {
  /** Each line with its '\n' (the file's last line may have none). */
  bytes: Buffer;
  /** The number of the first line. */
  first: number;
  /** Numbers of the lines that are not valid UTF-8, ascending. */
  notUtf8: number[];
}

/**
 * The file's whole lines, chunk by chunk, each chunk checked for valid UTF-8 before anything
 * decodes it (a decoder would silently replace invalid bytes). A line ends at the byte '\n',
 * which cannot be part of a multi-byte UTF-8 character, so lines are found without decoding;
 * only a chunk that is not valid UTF-8 as a whole is checked line by line.
 */
async function* linesOf(input: fs.ReadStream): AsyncGenerator<Lines> {
  let first = 1;
  let partial: Buffer[] = [];
  const lines = (bytes: Buffer): Lines => {
    const notUtf8: number[] = [];
    let count = 0;
    const whole = isUtf8(bytes);
    for (let start = 0; start < bytes.length; count++) {
      const end = bytes.indexOf(10, start);
      const next = end === -1 ? bytes.length : end + 1;
      if (!whole && !isUtf8(bytes.subarray(start, next))) notUtf8.push(first + count);
      start = next;
    }
    const result = { bytes, first, notUtf8 };
    first += count;
    return result;
  };
  for await (const chunk of input as AsyncIterable<Buffer>) {
    const end = chunk.lastIndexOf(10) + 1;
    if (end === 0) {
      partial.push(chunk);
      continue;
    }
    yield lines(partial.length > 0 ? Buffer.concat([...partial, chunk.subarray(0, end)]) : chunk.subarray(0, end));
    partial = end < chunk.length ? [chunk.subarray(end)] : [];
  }
  if (partial.length > 0) yield lines(Buffer.concat(partial));
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
  for await (const { bytes, first, notUtf8 } of linesOf(input)) {
    // Decoded at once; a line that is not valid UTF-8 is reported, never read.
    const texts = bytes.toString('utf8').split('\n');
    if (bytes.at(-1) === 10) texts.pop();
    for (const [i, text] of texts.entries()) {
      const line = first + i;
      if (notUtf8.includes(line)) {
        yield { line, error: NOT_UTF8 };
        continue;
      }
      if (text.trim() === '') continue;
      if (nestedTooDeep(text)) {
        yield { line, error: `a JSON value that ${TOO_DEEP}` };
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

const INTEGER_FIELDS = new Set(['neurons', 'synapses', 'cached_neurons', 'cache_write_neurons', 'reasoning_synapses']);

/** A CSV column holding one tag: `tag.feature` holds the value of the tag `feature`. */
const TAG_COLUMN = 'tag.';

/**
 * A CSV record as an event: empty cells are absent, counters become integers, cost stays a
 * decimal string, and the `tag.<key>` columns become the event's tags (absent when all are empty).
 */
function eventOfRecord(record: Record<string, string>): Record<string, unknown> {
  const event: Record<string, unknown> = {};
  let tags: Record<string, string> | undefined;
  for (const [field, text] of Object.entries(record)) {
    if (text === '') continue;
    if (field.startsWith(TAG_COLUMN)) {
      tags ??= {};
      tags[field.slice(TAG_COLUMN.length)] = text;
      continue;
    }
    event[field] = INTEGER_FIELDS.has(field) && /^-?\d+$/.test(text) ? Number(text) : text;
  }
  if (tags) event.tags = tags;
  return event;
}

async function* csvRecords(input: fs.ReadStream): AsyncGenerator<ImportLine> {
  // A record is bad if one of its lines was not valid UTF-8. Lines are checked before the parser
  // reads them, so those of a record are known by the time it is parsed.
  const notUtf8: number[] = [];
  const checkedLines = Readable.from(
    (async function* () {
      for await (const lines of linesOf(input)) {
        notUtf8.push(...lines.notUtf8);
        yield lines.bytes;
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
  const parser = checkedLines.pipe(
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
