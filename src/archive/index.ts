// The historical archive: cases (labelled images and their patients' keys), the model's similar-case
// index over them, bulk import (`precedent import`, the bundled reference archive) and the labels CSV.
export { openArchive, patientKeySecret, SECRET_FILE, type Archive, type ArchiveDeps, type StudyOutcome } from './archive.js';
export { importTarget, runImport, type ImportContext, type ImportOptions, type ImportSummary } from './import-run.js';
export { importReferenceArchive, referenceAvailable, referenceDir, REFERENCE_MARKER } from './reference-archive.js';
export { parseAge, parseSex, readLabelsCsv, type LabelsRow } from './labels-csv.js';
