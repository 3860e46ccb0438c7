// A received object as the object index stores it, with every searchable attribute empty except
// the identity the test gives (and an accession number when it matters).
import type { IndexedObject } from '../../src/shared/dicom-objects.js';

export function receivedObject(StudyInstanceUID: string, AccessionNumber = ''): IndexedObject {
  return {
    origin: 'received',
    version: 1,
    path: 'x.dcm',
    size: 1,
    TransferSyntaxUID: '1.2.840.10008.1.2.1',
    StudyInstanceUID,
    SeriesInstanceUID: `${StudyInstanceUID}.1`,
    SOPInstanceUID: `${StudyInstanceUID}.1.1`,
    SOPClassUID: '1.2.840.10008.5.1.4.1.1.1',
    Modality: 'CR',
    PatientID: '',
    PatientName: '',
    PatientBirthDate: '',
    PatientSex: '',
    StudyDate: '',
    StudyTime: '',
    AccessionNumber,
    ReferringPhysicianName: '',
    StudyID: '',
    StudyDescription: '',
    SeriesDescription: '',
    SeriesNumber: null,
    InstanceNumber: null,
    Rows: null,
    Columns: null,
    BitsAllocated: null,
    NumberOfFrames: null,
  };
}
