// The SCP's own command-set encoder must write exactly the bytes dcmjs-dimse's writer would, or
// fall back to it: a peer that receives a malformed C-STORE-RSP may resend or drop the object.
import { describe, expect, it } from 'vitest';
import dcmjsDimse from 'dcmjs-dimse';
import { encodeCommandSet, withDirectCommandEncoding } from '../src/dimse/command-set.js';

const { CStoreRequest, CEchoRequest } = dcmjsDimse.requests;
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
