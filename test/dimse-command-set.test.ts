// The SCP's own command-set encoder must write exactly the bytes dcmjs-dimse's writer would, or
// fall back to it: a peer that receives a malformed C-STORE-RSP may resend or drop the object.
import { describe, expect, it } from 'vitest';
import dcmjsDimse from 'dcmjs-dimse';
import { decodeCommandSet, encodeCommandSet, installDirectCommandDecoding, withDirectCommandEncoding } from '../src/dimse/command-set.js';

const { CStoreRequest, CEchoRequest, CMoveRequest } = dcmjsDimse.requests;
const { CStoreResponse, CEchoResponse } = dcmjsDimse.responses;

type Encodable = { getCommandDataset(): { getElements(): Record<string, unknown>; getDenaturalizedCommandDataset(): Buffer } };
const libraryBytes = (r: unknown): Buffer => (r as Encodable).getCommandDataset().getDenaturalizedCommandDataset();

function storeResponse(status: number, comment?: string, sopClass = '1.2.840.10008.5.1.4.1.1.1.1', sop = '2.25.1234567'): dcmjsDimse.responses.CStoreResponse {
  const request = new CStoreRequest(new dcmjsDimse.Dataset({ SOPClassUID: sopClass, SOPInstanceUID: sop }));
  request.setMessageId(17);
  const response = CStoreResponse.fromRequest(request);
  response.setStatus(status);
  if (comment !== undefined) response.setErrorComment(comment);
  return response;
}

describe('C-STORE-RSP / C-ECHO-RSP command set encoding', () => {
  it('writes the same bytes as dcmjs-dimse for success, failure with odd and even comments, odd and even UIDs', () => {
    const cases = [
      storeResponse(0x0000),
      storeResponse(0xa700, 'disk full'),
      storeResponse(0xc000, 'data set cannot be parsed'),
      storeResponse(0xa900, 'SOP Instance UID differs!', '1.2.840.10008.5.1.4.1.1.7', '2.25.12345678'),
      storeResponse(0xb000, '', '1.2.840.10008.5.1.4.1.1.1', '1.2'),
    ];
    for (const response of cases) {
      const expected = libraryBytes(response);
      const ours = encodeCommandSet((response as unknown as Encodable).getCommandDataset().getElements());
      expect(ours?.toString('hex')).toBe(expected.toString('hex'));
      expect(libraryBytes(withDirectCommandEncoding(response)).toString('hex')).toBe(expected.toString('hex'));
    }
    const echo = CEchoResponse.fromRequest(new CEchoRequest());
    echo.setStatus(0);
    const expected = libraryBytes(echo);
    expect(libraryBytes(withDirectCommandEncoding(echo)).toString('hex')).toBe(expected.toString('hex'));
  });

  it('leaves elements it does not know, values out of range and non-ASCII text to the library', () => {
    expect(encodeCommandSet({ CommandField: 0x8001, MoveOriginatorApplicationEntityTitle: 'X' })).toBeUndefined();
    expect(encodeCommandSet({ CommandField: 0x18001 })).toBeUndefined();
    expect(encodeCommandSet({ ErrorComment: 'Überlauf' })).toBeUndefined();
    const response = storeResponse(0xa700, 'Platte voll – später');
    const expected = libraryBytes(storeResponse(0xa700, 'Platte voll – später'));
    expect(libraryBytes(withDirectCommandEncoding(response)).toString('hex')).toBe(expected.toString('hex'));
  });
});

// The library's own reader, taken before any test installs ours.
type Readable = { _fromElementsBuffer(b: Buffer, ts: string, o: unknown): Record<string, unknown> };
const libraryRead = (dcmjsDimse.Dataset.prototype as unknown as Readable)._fromElementsBuffer;
const IMPLICIT = '1.2.840.10008.1.2';
const libraryDecode = (bytes: Buffer): Record<string, unknown> => libraryRead.call(new dcmjsDimse.Dataset({}), bytes, IMPLICIT, { ignoreErrors: true });

function storeRequest(sopClass: string, sop: string, originator?: [string, number]): Buffer {
  const request = new CStoreRequest(new dcmjsDimse.Dataset({ SOPClassUID: sopClass, SOPInstanceUID: sop }));
  request.setMessageId(4242);
  if (originator) {
    const command = request.getCommandDataset();
    command.setElement('MoveOriginatorApplicationEntityTitle', originator[0]);
    // index.d.ts types every element value as a string; a US is a number.
    command.setElement('MoveOriginatorMessageID', originator[1] as unknown as string);
  }
  return libraryBytes(request);
}

describe('incoming command set decoding', () => {
  it('reads C-STORE-RQ, C-ECHO-RQ, C-MOVE-RQ and C-STORE-RSP command sets exactly as dcmjs-dimse does', () => {
    const move = new CMoveRequest();
    move.getCommandDataset().setElement('MoveDestination', 'DEST_AE ');
    const sets = [
      storeRequest('1.2.840.10008.5.1.4.1.1.1.1', '2.25.1234567'),
      storeRequest('1.2.840.10008.5.1.4.1.1.7', '1.2.3.45678'),
      storeRequest('1.2.840.10008.5.1.4.1.1.1', '1.2', ['MOVER', 7]),
      libraryBytes(new CEchoRequest()),
      libraryBytes(move),
      libraryBytes(storeResponse(0x0000)),
      libraryBytes(storeResponse(0xa700, 'disk full')),
      libraryBytes(storeResponse(0xb000, 'Coercion of data elements')),
    ];
    for (const bytes of sets) {
      const ours = decodeCommandSet(bytes);
      expect(ours).toBeDefined();
      expect(ours).toEqual(libraryDecode(bytes));
    }
  });

  it('leaves other groups, unknown elements, repeated elements, odd UIDs and non-ASCII text to the library', () => {
    const element = (tagElement: number, value: Buffer, group = 0): Buffer => {
      const head = Buffer.alloc(8);
      head.writeUInt16LE(group, 0);
      head.writeUInt16LE(tagElement, 2);
      head.writeUInt32LE(value.length, 4);
      return Buffer.concat([head, value]);
    };
    const us = (n: number): Buffer => Buffer.from([n & 0xff, n >> 8]);
    const field = element(0x0100, us(1));
    expect(decodeCommandSet(field)).toEqual({ _vrMap: {}, CommandField: 1 });
    expect(decodeCommandSet(Buffer.concat([field, element(0x0010, Buffer.from('AB'), 8)]))).toBeUndefined();
    expect(decodeCommandSet(Buffer.concat([field, element(0x0901, Buffer.from([0, 0, 0, 0]))]))).toBeUndefined();
    expect(decodeCommandSet(Buffer.concat([field, field]))).toBeUndefined();
    expect(decodeCommandSet(Buffer.concat([field, element(0x1000, Buffer.from('1.2.3a\0'))]))).toBeUndefined();
    expect(decodeCommandSet(Buffer.concat([field, element(0x0902, Buffer.from('Überlauf', 'latin1'))]))).toBeUndefined();
    expect(decodeCommandSet(Buffer.concat([field, element(0x0110, Buffer.from([1, 0, 0]))]))).toBeUndefined();
    expect(decodeCommandSet(field.subarray(0, 9))).toBeUndefined();
  });

  it('once installed, dcmjs-dimse builds the same requests from command bytes, and still parses data sets itself', () => {
    const bytes = storeRequest('1.2.840.10008.5.1.4.1.1.1.1', '2.25.99', ['MOVER', 3]);
    const before = new dcmjsDimse.Dataset(bytes).getElements();
    installDirectCommandDecoding();
    installDirectCommandDecoding();
    expect(new dcmjsDimse.Dataset(bytes).getElements()).toEqual(before);
    const dataset = new dcmjsDimse.Dataset({ PatientName: 'Test^Name', Modality: 'CR' });
    const encoded = dataset.getDenaturalizedDataset();
    expect(new dcmjsDimse.Dataset(encoded, IMPLICIT).getElements()).toMatchObject({ Modality: 'CR' });
  });
});
