// A STOW-RS body must keep arriving at a minimum rate. The socket's idle timeout alone let a client
// sending one byte every few seconds hold a request (and its part on disk) open indefinitely (issue
// 12): here each window of `windowSeconds` must bring `minBytesPerSecond` × window bytes, or the body
// is cut off and the request is answered 408 and closed.
import type { IncomingMessage } from 'node:http';
import { PassThrough } from 'node:stream';

export class UploadTooSlow extends Error {}

export interface WatchedUpload {
  /** The body, for the multipart reader; fails with UploadTooSlow when the upload stalls. */
  stream: PassThrough;
  expired(): boolean;
}

export function watchUpload(body: IncomingMessage, opts: { windowSeconds: number; minBytesPerSecond: number }): WatchedUpload {
  const out = new PassThrough();
  let received = 0;
  let mark = 0;
  let expired = false;
  const minBytes = opts.minBytesPerSecond * opts.windowSeconds;
  const timer = setInterval(() => {
    if (received - mark >= minBytes) {
      mark = received;
      return;
    }
    expired = true;
    clearInterval(timer);
    body.unpipe(out);
    body.pause();
    out.destroy(new UploadTooSlow(`request body slower than ${opts.minBytesPerSecond} bytes/s over ${opts.windowSeconds} s`));
  }, opts.windowSeconds * 1000);
  timer.unref();
  body.on('data', (chunk: Buffer) => {
    received += chunk.length;
  });
  body.on('end', () => clearInterval(timer));
  // pipe() does not forward errors: a client that goes away must still end the reader.
  body.on('error', (err) => out.destroy(err));
  body.on('close', () => {
    clearInterval(timer);
    if (!body.complete && !out.destroyed) out.destroy(new Error('request aborted'));
  });
  body.pipe(out);
  return { stream: out, expired: () => expired };
}
