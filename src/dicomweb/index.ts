// dicomweb/: the DICOMweb edge. STOW-RS goes through ingest only, like the DIMSE edge.
export { createDicomwebServer, type DicomwebServer, type DicomwebServerDeps } from './server.js';
