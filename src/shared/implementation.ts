// Precedent's identity in DICOM: File Meta of stored objects and A-ASSOCIATE-AC (PS3.7 D.3.3.2).
// 2.25 root: UUID-derived, needs no registration.
export const IMPLEMENTATION_CLASS_UID = '2.25.157821403803180157165816419525130868058';
export const IMPLEMENTATION_VERSION_NAME = 'PRECEDENT_0_1';
