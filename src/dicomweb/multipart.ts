// A streaming multipart/related reader (RFC 2046 5.1, RFC 2387): parts are handed out one at a time
// with their body as a stream of chunks, so a request of hundreds of instances is never held in
// memory. Only the delimiter's length of bytes is kept back between chunks.

export class MultipartError extends Error {
  constructor(
    message: string,
    readonly kind: 'malformed' | 'too-large' = 'malformed',
  ) {
    super(message);
    this.name = 'MultipartError';
  }
}

export interface MediaType {
  type: string;
  params: Record<string, string>;
}

/** Parses a Content-Type value: lower-cased type and parameter names, quotes removed. */
export function parseMediaType(value: string | undefined): MediaType | undefined {
  if (!value) return undefined;
  const [head, ...rest] = splitParams(value);
  const type = head?.trim().toLowerCase();
  if (!type) return undefined;
  const params: Record<string, string> = {};
  for (const p of rest) {
    const eq = p.indexOf('=');
    if (eq < 0) continue;
    const name = p.slice(0, eq).trim().toLowerCase();
    let v = p.slice(eq + 1).trim();
    if (v.startsWith('"') && v.endsWith('"') && v.length >= 2) v = v.slice(1, -1).replace(/\\(.)/g, '$1');
    params[name] = v;
  }
  return { type, params };
}

/** Splits on ';' outside quoted strings. */
function splitParams(value: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i] as string;
    if (c === '"' && value[i - 1] !== '\\') quoted = !quoted;
    if (c === ';' && !quoted) {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

export interface MultipartPart {
  /** Header names lower-cased. */
  headers: Record<string, string>;
  /** The part's bytes; read it to the end (or leave it: the reader drains what is left). */
  body: AsyncIterable<Buffer>;
}

export interface MultipartLimits {
  /** Total bytes read from the source; beyond it a MultipartError('too-large') is thrown. */
  maxBytes: number;
  maxHeaderBytes?: number;
}

const CRLF = Buffer.from('\r\n');
const HEADER_END = Buffer.from('\r\n\r\n');

/** Yields the parts of a multipart body in order. Throws MultipartError on a malformed or oversize body. */
export async function* readMultipart(source: AsyncIterable<Buffer | string>, boundary: string, limits: MultipartLimits): AsyncGenerator<MultipartPart> {
  if (!boundary || boundary.length > 70) throw new MultipartError('boundary parameter missing or longer than 70 characters');
  const iterator = source[Symbol.asyncIterator]();
  const delimiter = Buffer.from(`\r\n--${boundary}`, 'latin1');
  const maxHeaderBytes = limits.maxHeaderBytes ?? 16 * 1024;
  // A CRLF in front lets the first delimiter (which may open the body) match like every other one.
  let buf: Buffer = Buffer.from(CRLF);
  let total = 0;
  let ended = false;

  const fill = async (): Promise<boolean> => {
    if (ended) return false;
    const next = await iterator.next();
    if (next.done) {
      ended = true;
      return false;
    }
    const chunk = typeof next.value === 'string' ? Buffer.from(next.value, 'latin1') : next.value;
    total += chunk.length;
    if (total > limits.maxBytes) throw new MultipartError(`request body exceeds ${limits.maxBytes} bytes`, 'too-large');
    buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
    return true;
  };
  const need = async (n: number, what: string): Promise<void> => {
    while (buf.length < n) if (!(await fill())) throw new MultipartError(`body ended ${what}`);
  };

  // Preamble: everything up to the first delimiter is ignored.
  for (;;) {
    const at = buf.indexOf(delimiter);
    if (at >= 0) {
      buf = buf.subarray(at + delimiter.length);
      break;
    }
    buf = buf.subarray(Math.max(0, buf.length - delimiter.length + 1));
    if (!(await fill())) throw new MultipartError(`no part delimiter (--${boundary}) in the body`);
  }

  for (;;) {
    // After a delimiter: "--" closes the body; otherwise optional white space, then CRLF.
    await need(2, 'after a delimiter');
    if (buf[0] === 0x2d && buf[1] === 0x2d) return; // the epilogue is ignored
    let eol: number;
    while ((eol = buf.indexOf(CRLF)) < 0) {
      if (buf.length > 1024) throw new MultipartError('garbage after a part delimiter');
      if (!(await fill())) throw new MultipartError('body ended after a delimiter');
    }
    if (!/^[ \t]*$/.test(buf.toString('latin1', 0, eol))) throw new MultipartError('garbage after a part delimiter');
    buf = buf.subarray(eol + 2);

    // Headers end at an empty line (immediately, when the part has none).
    let headerText = '';
    await need(2, 'in part headers');
    if (buf[0] === 0x0d && buf[1] === 0x0a) {
      buf = buf.subarray(2);
    } else {
      let end: number;
      while ((end = buf.indexOf(HEADER_END)) < 0) {
        if (buf.length > maxHeaderBytes) throw new MultipartError(`part headers longer than ${maxHeaderBytes} bytes`);
        if (!(await fill())) throw new MultipartError('body ended in part headers');
      }
      headerText = buf.toString('latin1', 0, end);
      buf = buf.subarray(end + HEADER_END.length);
    }
    const headers: Record<string, string> = {};
    for (const line of headerText.split('\r\n')) {
      const colon = line.indexOf(':');
      if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }

    let done = false;
    const nextChunk = async (): Promise<IteratorResult<Buffer>> => {
      for (;;) {
        if (done) return { done: true, value: undefined };
        const at = buf.indexOf(delimiter);
        if (at >= 0) {
          const chunk = buf.subarray(0, at);
          buf = buf.subarray(at + delimiter.length);
          done = true;
          if (chunk.length > 0) return { done: false, value: chunk };
          continue;
        }
        // Keep back what could be the start of a delimiter split across chunks.
        const safe = buf.length - (delimiter.length - 1);
        if (safe > 0) {
          const chunk = buf.subarray(0, safe);
          buf = buf.subarray(safe);
          return { done: false, value: chunk };
        }
        if (!(await fill())) throw new MultipartError('body ended inside a part (no closing delimiter)');
      }
    };
    // No return(): a consumer that stops early does not end the part; the loop below drains it.
    const body: AsyncIterable<Buffer> = { [Symbol.asyncIterator]: () => ({ next: nextChunk }) };
    yield { headers, body };
    while (!done) await nextChunk();
  }
}
