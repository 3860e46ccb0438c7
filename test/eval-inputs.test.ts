// The evaluation's inputs: the labels CSV with a split and a label map, and PNG/JPEG decoding
// (src/decode/raster.ts) on real files.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createImageDecoder, decodeRasterFile, isRasterFile } from '../src/decode/index.js';
import { mapLabel, parseLabelMap, readEvalSet } from '../src/eval/index.js';
import { buildFixture, cxrDir, readSharedLabels } from './fixtures/build.js';
import { decodeJpegGray } from './fixtures/image.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'precedent-eval-inputs-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function write(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

const LABELS = [
  'dataset,image_path,patient_group,label,label_group',
  'kermany,a.jpg,k1,other pneumonia,viral',
  'kermany,b.jpg,k2,other pneumonia,bacterial',
  'kermany,c.jpg,k3,normal,',
  'ieee,d.jpg,i1,COVID-19,viral',
  'ieee,e.jpg,i1,other pneumonia,fungal',
  'ieee,f.jpg,i2,other,ARDS',
].join('\n');

describe('evaluation set', () => {
  it('uses the label column as is, every image a query and a gallery image', () => {
    const set = readEvalSet({ labelsFile: write('labels.csv', LABELS) });
    expect(set.rows).toBe(6);
    expect(set.items.map((i) => i.label)).toEqual(['other pneumonia', 'other pneumonia', 'normal', 'COVID-19', 'other pneumonia', 'other']);
    expect(set.items.every((i) => i.query && i.gallery)).toBe(true);
    expect(set.items[3]).toEqual({ row: 3, imagePath: 'd.jpg', patientGroup: 'i1', label: 'COVID-19', dataset: 'ieee', query: true, gallery: true });
  });

  it('applies a label map: "label/label_group" before "label", null or unmatched rows left out', () => {
    const map = write(
      'map.json',
      JSON.stringify({
        'COVID-19': 'COVID-19',
        normal: 'normal',
        'other pneumonia/viral': 'viral',
        'other pneumonia/bacterial': 'bacterial',
        'other pneumonia/fungal': null,
      }),
    );
    const set = readEvalSet({ labelsFile: join(dir, 'labels.csv'), labelMapFile: map });
    expect(set.items.map((i) => `${i.imagePath}:${i.label}`)).toEqual(['a.jpg:viral', 'b.jpg:bacterial', 'c.jpg:normal', 'd.jpg:COVID-19']);
    expect(set.excludedByLabelMap).toEqual({ 'other pneumonia/fungal': 1, 'other/ARDS': 1 });
    expect(mapLabel({ 'other pneumonia': 'pneumonia', 'other pneumonia/viral': 'viral' }, 'other pneumonia', 'bacterial')).toBe('pneumonia');
    expect(() => parseLabelMap(['normal'], 'x.json')).toThrow(/JSON object/);
    expect(() => parseLabelMap({ normal: 3 }, 'x.json')).toThrow(/normal/);
  });

  it('restricts queries and gallery to a split, or searches other splits with a gallery subset', () => {
    const split = write(
      'split.csv',
      ['image_path,patient_group,split', 'a.jpg,k1,train', 'b.jpg,k2,test', 'c.jpg,k3,test', 'd.jpg,i1,val', 'e.jpg,i1,test'].join('\n'),
    );
    const test = readEvalSet({ labelsFile: join(dir, 'labels.csv'), split: { file: split, subset: ['test'] } });
    expect(test.items.map((i) => i.imagePath)).toEqual(['b.jpg', 'c.jpg', 'e.jpg']);
    expect(test.items.every((i) => i.query && i.gallery)).toBe(true);
    // f.jpg is not in the split file: left out and counted.
    expect(test.excludedBySplit).toBe(3);
    expect(test.missingFromSplit).toBe(1);
    const archive = readEvalSet({ labelsFile: join(dir, 'labels.csv'), split: { file: split, subset: ['test'], gallerySubset: ['train', 'val'] } });
    expect(archive.items.map((i) => `${i.imagePath}:${i.query ? 'q' : ''}${i.gallery ? 'g' : ''}`)).toEqual([
      'a.jpg:g',
      'b.jpg:q',
      'c.jpg:q',
      'd.jpg:g',
      'e.jpg:q',
    ]);
  });

  it('rejects a CSV without the needed columns and a split without a split column', () => {
    expect(() => readEvalSet({ labelsFile: write('bad.csv', 'path,label\nx.jpg,normal\n') })).toThrow(/image_path, patient_group \(or patient_id\)/);
    const noSplit = write('nosplit.csv', 'image_path,fold\na.jpg,1\n');
    expect(() => readEvalSet({ labelsFile: join(dir, 'labels.csv'), split: { file: noSplit, subset: ['test'] } })).toThrow(/no split column/);
    // patient_id stands in for patient_group.
    const byId = readEvalSet({ labelsFile: write('ids.csv', 'image_path,patient_id,label\nx.jpg,P1,normal\n') });
    expect(byId.items[0]?.patientGroup).toBe('P1');
  });
});

describe('PNG / JPEG decoding', () => {
  it('decodes a shared JPEG radiograph to the same luminance as the fixture builder, in [0, 1]', async () => {
    const row = readSharedLabels()[0];
    const file = join(cxrDir(), row?.['image_path'] ?? '');
    expect(await isRasterFile(file)).toBe(true);
    const image = await decodeRasterFile(file);
    const reference = await decodeJpegGray(file);
    expect([image.width, image.height]).toEqual([reference.width, reference.height]);
    let maxDiff = 0;
    let min = Infinity;
    let max = -Infinity;
    image.pixels.forEach((v, i) => {
      maxDiff = Math.max(maxDiff, Math.abs(v - (reference.data[i] ?? 0) / 255));
      min = Math.min(min, v);
      max = Math.max(max, v);
    });
    expect(maxDiff).toBeLessThan(1e-6);
    expect(min).toBeGreaterThanOrEqual(0);
    expect(max).toBeLessThanOrEqual(1);
  });

  it('decodes 8-bit gray, RGB (to BT.601 luminance) and 16-bit PNGs', async () => {
    const gray = new PNG({ width: 2, height: 1, colorType: 0, inputColorType: 0, bitDepth: 8 });
    gray.data = Buffer.from([0, 255]);
    const grayFile = write('gray.png', '');
    writeFileSync(grayFile, PNG.sync.write(gray, { colorType: 0, inputColorType: 0, bitDepth: 8 }));
    expect(Array.from((await decodeRasterFile(grayFile)).pixels)).toEqual([0, 1]);

    const rgb = new PNG({ width: 1, height: 1 });
    rgb.data = Buffer.from([255, 0, 0, 255]);
    const rgbFile = join(dir, 'rgb.png');
    writeFileSync(rgbFile, PNG.sync.write(rgb, { colorType: 2 }));
    const decoded = await decodeRasterFile(rgbFile);
    expect(decoded.pixels[0]).toBeCloseTo(0.299, 6);
    expect(decoded.notes).toContain('colour converted to luminance (BT.601)');

    // 16-bit gray: 1000 / 65535 keeps its precision (an 8-bit rescale would give 4/255).
    const deep = new PNG({ width: 2, height: 1, colorType: 0, inputColorType: 0, bitDepth: 16 });
    deep.data = Buffer.from(new Uint16Array([1000, 65535]).buffer);
    const deepFile = join(dir, 'deep.png');
    writeFileSync(deepFile, PNG.sync.write(deep, { colorType: 0, inputColorType: 0, bitDepth: 16 }));
    const d16 = await decodeRasterFile(deepFile);
    expect(d16.pixels[0]).toBeCloseTo(1000 / 65535, 6);
    expect(d16.pixels[1]).toBe(1);
  });

  it('rejects a corrupt or non-image file with DECODE_FAILED and leaves DICOM to the DICOM decoder', async () => {
    const row = readSharedLabels()[0];
    const bytes = readFileSync(join(cxrDir(), row?.['image_path'] ?? ''));
    const cut = join(dir, 'cut.jpg');
    writeFileSync(cut, bytes.subarray(0, 200));
    await expect(decodeRasterFile(cut)).rejects.toMatchObject({ code: 'DECODE_FAILED' });
    await expect(decodeRasterFile(write('text.jpg', 'not an image'))).rejects.toMatchObject({ code: 'DECODE_FAILED' });
    await expect(decodeRasterFile(join(dir, 'missing.png'))).rejects.toMatchObject({ code: 'DECODE_FAILED' });

    const fx = await buildFixture({ variant: 'dx8', syntax: 'ele', imageIndex: 0 }, dir);
    expect(await isRasterFile(fx.path)).toBe(false);
    const dicom = await createImageDecoder().decodeFile(fx.path);
    expect(dicom.width).toBeGreaterThan(0);
  });
});
