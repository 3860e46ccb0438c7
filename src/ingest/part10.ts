// The C-STORE stream carries only the data set, in the accepted transfer syntax. A Part 10 file needs
// the 128-byte preamble, "DICM" and the File Meta Information group (always Explicit VR Little Endian,
// PS3.10 7.1), which we write in front of it.
import { IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME } from '../shared/implementation.js';

export interface FileMetaFields {
  MediaStorageSOPClassUID: string;
  MediaStorageSOPInstanceUID: string;
  TransferSyntaxUID: string;
  SourceApplicationEntityTitle?: string;
}

function pad(value: string, padByte: number): Buffer {
  const bytes = Buffer.from(value, 'latin1');
  return bytes.length % 2 === 0 ? bytes : Buffer.concat([bytes, Buffer.from([padByte])]);
}

// Explicit VR LE: OB (and the other "long" VRs) use a reserved word and a 4-byte length; UI, SH,
// AE and UL use a 2-byte length (PS3.5 7.1.2).
function element(tagElement: number, vr: 'OB' | 'UI' | 'SH' | 'AE' | 'UL', value: Buffer): Buffer {
  const long = vr === 'OB';
  const head = Buffer.alloc(long ? 12 : 8);
  head.writeUInt16LE(0x0002, 0);
  head.writeUInt16LE(tagElement, 2);
  head.write(vr, 4, 'latin1');
  if (long) head.writeUInt32LE(value.length, 8);
  else head.writeUInt16LE(value.length, 6);
  return Buffer.concat([head, value]);
}

export function fileMetaHeader(fields: FileMetaFields): Buffer {
  const elements = [
    element(0x0001, 'OB', Buffer.from([0x00, 0x01])),
    element(0x0002, 'UI', pad(fields.MediaStorageSOPClassUID, 0)),
    element(0x0003, 'UI', pad(fields.MediaStorageSOPInstanceUID, 0)),
    element(0x0010, 'UI', pad(fields.TransferSyntaxUID, 0)),
    element(0x0012, 'UI', pad(IMPLEMENTATION_CLASS_UID, 0)),
    element(0x0013, 'SH', pad(IMPLEMENTATION_VERSION_NAME, 0x20)),
  ];
  if (fields.SourceApplicationEntityTitle) {
    elements.push(element(0x0016, 'AE', pad(fields.SourceApplicationEntityTitle, 0x20)));
  }
  const body = Buffer.concat(elements);
  const groupLength = Buffer.alloc(4);
  groupLength.writeUInt32LE(body.length, 0);
  return Buffer.concat([Buffer.alloc(128), Buffer.from('DICM', 'latin1'), element(0x0000, 'UL', groupLength), body]);
}
