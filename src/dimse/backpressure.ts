// dcmjs-dimse writes each data set fragment into the receive stream without waiting for it: a sender
// faster than the disk made the node hold most of a 160 MB object in the stream's buffer (issue 12).
// The socket is paused while the stream is over its high-water mark, as pipe() would do.
import type { Socket } from 'node:net';
import type { Writable } from 'node:stream';

export function pauseWhileFull(socket: Socket, stream: Writable | undefined): void {
  if (!stream || !stream.writableNeedDrain || socket.isPaused()) return;
  socket.pause();
  const resume = (): void => {
    stream.off('drain', resume);
    stream.off('close', resume);
    socket.resume();
  };
  stream.on('drain', resume);
  stream.on('close', resume);
}
