/**
 * HTTP over a bare socket, for requests that fetch would normalize or refuse to send: paths
 * with `..`, malformed request lines and headers, bodies that never finish.
 */
import net from 'node:net';

export interface RawResponse {
  status: number;
  /** Header names in lower case. */
  headers: Record<string, string>;
  text: string;
  body: any;
}

/**
 * Writes `request` as is (or its parts one after the other) and reads until the server closes
 * the connection; resolves with the first response, or rejects when none came within `timeoutMs`.
 */
export function rawRequest(port: number, request: string | string[], timeoutMs = 10_000): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('connect', () => {
      for (const part of [request].flat()) socket.write(part);
    });
    socket.on('data', (chunk) => chunks.push(chunk));
    // A server that answers then closes may reset the connection while data is still unread.
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      const raw = Buffer.concat(chunks);
      if (raw.length === 0) return reject(new Error('connection closed without an answer'));
      resolve(parseResponse(raw));
    });
  });
}

function parseResponse(raw: Buffer): RawResponse {
  const split = raw.indexOf('\r\n\r\n');
  const [statusLine = '', ...headerLines] = raw.subarray(0, split).toString('latin1').split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const rest = raw.subarray(split + 4);
  const length = headers['content-length'];
  const text =
    headers['transfer-encoding'] === 'chunked'
      ? unchunk(rest.toString('utf8'))
      : rest.subarray(0, length === undefined ? rest.length : Number(length)).toString('utf8');
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: Number(statusLine.split(' ')[1]), headers, text, body };
}

function unchunk(text: string): string {
  let out = '';
  let rest = text;
  for (;;) {
    const eol = rest.indexOf('\r\n');
    const size = Number.parseInt(rest.slice(0, eol), 16);
    if (!size) return out;
    out += rest.slice(eol + 2, eol + 2 + size);
    rest = rest.slice(eol + 2 + size + 2);
  }
}
