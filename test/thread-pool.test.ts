// The worker-thread pool behind decoding and result drawing, with real threads running a small
// worker script built on the product's serveThreadRequests().
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { createThreadPool, type ThreadPool } from '../src/shared/thread-pool.js';
import { isPrecedentError } from '../src/shared/errors.js';
import { capturingLogger } from './helpers/model-images.js';
import { tempDir } from './helpers/node.js';

const dist = (file: string): string => pathToFileURL(resolve('dist/shared', file)).href;

/** Upper-cases strings; 'crash' ends its thread, 'coded' and 'plain' fail, 'slow:N' waits N ms. */
function script(): URL {
  const file = join(tempDir('precedent-threads-'), 'worker.mjs');
  writeFileSync(
    file,
    `import { serveThreadRequests } from ${JSON.stringify(dist('thread-worker.js'))};
import { PrecedentError } from ${JSON.stringify(dist('errors.js'))};
import { threadId } from 'node:worker_threads';
await serveThreadRequests(async (r) => {
  if (r === 'crash') process.exit(7);
  if (r === 'coded') throw new PrecedentError('DECODE_FAILED', 'cannot decode', { details: ['frame 1'] });
  if (r === 'plain') throw new TypeError('unexpected');
  if (r.startsWith('slow:')) await new Promise((ok) => setTimeout(ok, Number(r.slice(5))));
  return { value: { upper: r.toUpperCase(), threadId } };
});
`,
  );
  return pathToFileURL(file);
}

let pool: ThreadPool<string, { upper: string; threadId: number }> | undefined;
afterEach(async () => {
  await pool?.close();
  pool = undefined;
});

describe('thread pool', () => {
  it('answers requests on its threads, one request per thread at a time', async () => {
    pool = createThreadPool({ script: script(), name: 'test', threads: 2, log: capturingLogger().log });
    const answers = await Promise.all(['slow:80', 'slow:80', 'slow:80', 'slow:80', 'b'].map((r) => pool?.run(r)));
    expect(answers.map((a) => a?.upper)).toEqual(['SLOW:80', 'SLOW:80', 'SLOW:80', 'SLOW:80', 'B']);
    expect(new Set(answers.map((a) => a?.threadId)).size, 'both threads served').toBe(2);
  });

  it('keeps a coded failure coded (never retried) and leaves others plain (retryable)', async () => {
    pool = createThreadPool({ script: script(), name: 'test', threads: 1, log: capturingLogger().log });
    const coded = await pool.run('coded').catch((e: unknown) => e);
    expect(isPrecedentError(coded)).toBe(true);
    expect(coded).toMatchObject({ code: 'DECODE_FAILED', message: 'cannot decode', details: ['frame 1'] });
    const plain = await pool.run('plain').catch((e: unknown) => e);
    expect(plain).toBeInstanceOf(Error);
    expect(isPrecedentError(plain)).toBe(false);
    expect((plain as Error).message).toBe('unexpected');
    await expect(pool.run('still')).resolves.toMatchObject({ upper: 'STILL' });
  });

  it('fails only the request of a thread that dies, logs it, and starts the thread again', async () => {
    const { log, lines } = capturingLogger();
    pool = createThreadPool({ script: script(), name: 'test', threads: 1, log });
    const first = await pool.run('a');
    const [crashed, queued] = await Promise.allSettled([pool.run('crash'), pool.run('after')]);
    expect(crashed.status).toBe('rejected');
    expect(crashed.status === 'rejected' ? String(crashed.reason) : '').toMatch(/test thread 0 stopped: exit code 7/);
    expect(isPrecedentError(crashed.status === 'rejected' ? crashed.reason : undefined), 'retryable').toBe(false);
    expect(queued).toMatchObject({ status: 'fulfilled', value: { upper: 'AFTER' } });
    expect(queued.status === 'fulfilled' ? queued.value.threadId : first.threadId, 'a new thread').not.toBe(first.threadId);
    expect(pool.restarts).toBe(1);
    expect(lines.some((l) => l.msg === 'worker thread stopped: restarting it')).toBe(true);
  });

  it('fails what waits when closed, and refuses new requests', async () => {
    pool = createThreadPool({ script: script(), name: 'test', threads: 1, log: capturingLogger().log });
    const settled = Promise.allSettled([pool.run('slow:2000'), pool.run('x')]);
    await pool.close();
    const [running, waiting] = await settled;
    expect(running.status === 'rejected' ? String(running.reason) : 'answered').toMatch(/closed/);
    expect(waiting.status === 'rejected' ? String(waiting.reason) : 'answered').toMatch(/closed/);
    await expect(pool.run('y')).rejects.toThrow(/closed/);
  });

  it('fails the waiting requests when a thread cannot start, instead of restarting forever', async () => {
    const file = join(tempDir('precedent-threads-'), 'broken.mjs');
    writeFileSync(file, "throw new Error('broken install');\n");
    const { log } = capturingLogger();
    pool = createThreadPool({ script: pathToFileURL(file), name: 'test', threads: 1, log });
    await expect(pool.run('a')).rejects.toThrow(/test thread 0 cannot start: broken install/);
    expect(pool.restarts).toBe(0);
  });

  it("keeps the code of a start-up failure that the thread reports ('startup-failed')", async () => {
    const file = join(tempDir('precedent-threads-'), 'no-model.mjs');
    writeFileSync(
      file,
      `import { serveThreadRequests } from ${JSON.stringify(dist('thread-worker.js'))};
import { PrecedentError } from ${JSON.stringify(dist('errors.js'))};
await serveThreadRequests(async (r) => ({ value: r }), {
  init: async () => {
    throw new PrecedentError('MODEL_INVALID', 'no model here', { details: ['model.onnx'] });
  },
});
`,
    );
    pool = createThreadPool({ script: pathToFileURL(file), name: 'test', threads: 1, log: capturingLogger().log });
    const err = await pool.run('a').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'MODEL_INVALID', message: 'test thread 0 cannot start: no model here', details: ['model.onnx'] });
    expect(pool.restarts).toBe(0);
  });
});
