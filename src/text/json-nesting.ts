/**
 * How deep a JSON text may nest. No body of the API nests more than four levels, and parsing
 * then walking a megabyte of brackets costs seconds of CPU that any client could make us spend:
 * every source of input (HTTP bodies, queue messages, imported lines) checks this before
 * parsing, with the same reason.
 */
export const MAX_JSON_DEPTH = 32;

export const TOO_DEEP = `must not nest arrays and objects deeper than ${MAX_JSON_DEPTH} levels`;

/**
 * Whether `text` opens more than MAX_JSON_DEPTH arrays or objects at once, brackets inside
 * strings aside. One pass, before the parser builds anything; malformed JSON is left for the
 * parser to refuse.
 */
export function nestedTooDeep(text: string): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (inString) {
      if (code === 0x5c /* \ */) i++;
      else if (code === 0x22 /* " */) inString = false;
    } else if (code === 0x22) inString = true;
    else if (code === 0x5b /* [ */ || code === 0x7b /* { */) {
      if (++depth > MAX_JSON_DEPTH) return true;
    } else if (code === 0x5d /* ] */ || code === 0x7d /* } */) depth--;
  }
  return false;
}
