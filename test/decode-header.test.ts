// The decoder keeps each file's header (up to Pixel Data) with the decoded image, so that the later
// steps of the same study job (case attributes, the results' Patient and Study modules) read it
// instead of opening the file again: what they read from it must be what they read from the file.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createImageDecoder } from '../src/decode/index.js';
import { caseAttributesOfHeader, readCaseAttributes } from '../src/ingest/index.js';
import { readSourceImage } from '../src/report/index.js';
import { buildFixture, type SyntaxName } from './fixtures/build.js';

const decoder = createImageDecoder();
const patientKey = (id: string, issuer: string): string => `key(${id}|${issuer})`;
let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'precedent-header-'));
});
afterAll(async () => {
  if (dir !== '') await rm(dir, { recursive: true, force: true });
});

describe('DecodedImage.header', () => {
  it.each<SyntaxName>(['ele', 'ile', 'jpegls', 'j2k-lossless', 'rle'])('%s: ends where Pixel Data starts and reads as the file does', async (syntax) => {
    const fx = await buildFixture({ variant: 'dx12', syntax, patientID: 'PID-7', accessionNumber: 'ACC-7' }, dir);
    const file = await readFile(fx.path);
    const image = await decoder.decodeFile(fx.path);
    const header = image.header;
    expect(header).toBeDefined();
    if (!header) return;
    expect(header.byteLength).toBeLessThan(file.byteLength);
    expect(Buffer.from(header).equals(file.subarray(0, header.byteLength))).toBe(true);
    // (7FE0,0010) Pixel Data follows it in the file.
    expect([...file.subarray(header.byteLength, header.byteLength + 4)]).toEqual([0xe0, 0x7f, 0x10, 0x00]);
    expect(readSourceImage(header)).toEqual(readSourceImage(file));
    const fromHeader = caseAttributesOfHeader(header, patientKey);
    expect(fromHeader).toEqual(readCaseAttributes(file, patientKey));
    expect(fromHeader).toMatchObject({ AccessionNumber: 'ACC-7', patientKey: 'key(PID-7|PRECEDENT)', triage: { analyzable: true } });
  });

  it('is absent for a deflated data set (the later steps read the file)', async () => {
    const fx = await buildFixture({ variant: 'dx12', syntax: 'deflate' }, dir);
    expect((await decoder.decodeFile(fx.path)).header).toBeUndefined();
  });
});
