// WADO-RS Accept negotiation (src/dicomweb/accept.ts) case by case: quality order, media type
// defaults, single-part limits and what is refused.
import { describe, expect, it } from 'vitest';
import { chooseFrames, chooseRendered, chooseRetrieve } from '../src/dicomweb/accept.js';

const JLS = '1.2.840.10008.1.2.4.80';
const ELE = '1.2.840.10008.1.2.1';

describe('frames', () => {
  it('defaults to multipart native samples, and decodes a compressed object for octet-stream', () => {
    expect(chooseFrames(undefined, ELE, 1)).toEqual({ as: 'native', partType: 'application/octet-stream', transferSyntaxUID: ELE, multipart: true });
    expect(chooseFrames('multipart/related; type="application/octet-stream"', JLS, 1)).toMatchObject({ as: 'native', transferSyntaxUID: ELE });
  });

  it('gives the stored codestream for its media type, by its default syntax or a named one, and for transfer-syntax=*', () => {
    expect(chooseFrames('multipart/related; type="image/jls"', JLS, 2)).toMatchObject({
      as: 'stored',
      partType: 'image/jls',
      transferSyntaxUID: JLS,
      multipart: true,
    });
    expect(chooseFrames('multipart/related; type="image/x-jls"', JLS, 1)).toMatchObject({ as: 'stored', partType: 'image/x-jls' });
    expect(chooseFrames('multipart/related; type="image/jls"', '1.2.840.10008.1.2.4.81', 1)).toHaveProperty('refused');
    expect(chooseFrames('multipart/related; type="image/jls"; transfer-syntax=1.2.840.10008.1.2.4.81', '1.2.840.10008.1.2.4.81', 1)).toMatchObject({
      as: 'stored',
    });
    expect(chooseFrames('multipart/related; type="application/octet-stream"; transfer-syntax=*', JLS, 1)).toMatchObject({
      as: 'stored',
      partType: 'application/octet-stream',
    });
  });

  it('follows q values, keeps single-part to one frame, and refuses what it cannot give', () => {
    expect(chooseFrames('multipart/related; type="application/octet-stream"; q=0.5, multipart/related; type="image/jls"', JLS, 1)).toMatchObject({
      as: 'stored',
    });
    expect(chooseFrames('image/jls', JLS, 1)).toMatchObject({ as: 'stored', multipart: false });
    expect(chooseFrames('image/jls', JLS, 2)).toHaveProperty('refused');
    expect(chooseFrames('image/jp2', JLS, 1)).toHaveProperty('refused');
    expect(chooseFrames('image/jls', ELE, 1)).toHaveProperty('refused');
    expect(chooseFrames('application/octet-stream; q=0', ELE, 1)).toHaveProperty('refused');
  });
});

describe('retrieve', () => {
  it('as stored without a syntax or with *, single-part only for one object', () => {
    expect(chooseRetrieve(undefined, 3, new Set([JLS]))).toEqual({ multipart: true, transferSyntaxUID: undefined });
    expect(chooseRetrieve('application/dicom', 1, new Set([JLS]))).toEqual({ multipart: false, transferSyntaxUID: undefined });
    expect(chooseRetrieve('application/dicom', 2, new Set([JLS]))).toHaveProperty('refused');
    expect(chooseRetrieve('multipart/related; type="application/dicom"; transfer-syntax=*', 2, new Set([JLS]))).toEqual({
      multipart: true,
      transferSyntaxUID: undefined,
    });
  });

  it('a written syntax always, a lossy one only when every image is stored so', () => {
    expect(chooseRetrieve(`multipart/related; type="application/dicom"; transfer-syntax=${JLS}`, 2, new Set([ELE]))).toEqual({
      multipart: true,
      transferSyntaxUID: JLS,
    });
    const lossy = 'multipart/related; type="application/dicom"; transfer-syntax=1.2.840.10008.1.2.4.50';
    expect(chooseRetrieve(lossy, 2, new Set(['1.2.840.10008.1.2.4.50']))).toEqual({ multipart: true, transferSyntaxUID: '1.2.840.10008.1.2.4.50' });
    expect(chooseRetrieve(lossy, 2, new Set(['1.2.840.10008.1.2.4.50', ELE]))).toHaveProperty('refused');
    expect(chooseRetrieve('application/dicom+json', 1, new Set())).toHaveProperty('refused');
  });
});

describe('rendered', () => {
  it('JPEG by default, PNG when asked first, nothing else', () => {
    expect(chooseRendered(undefined)).toEqual({ format: 'jpeg' });
    expect(chooseRendered('image/png, image/jpeg')).toEqual({ format: 'png' });
    expect(chooseRendered('image/jpeg; q=0.2, image/png')).toEqual({ format: 'png' });
    expect(chooseRendered('text/html')).toHaveProperty('refused');
  });
});
