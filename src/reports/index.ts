// reports/: radiology reports in (HL7 v2 over MLLP, FHIR DiagnosticReport; DICOM SR read by ingest/) and the rules that turn a
// report's text into normal / abnormal and finding labels (docs/reports.md).
export { createLabeller, splitSections, splitSentences, type Labeller, type ReportLabels, type Mention, type Certainty } from './labeller.js';
export { parseRules, loadRules, reportRules, DEFAULT_RULES_FILE, type ReportRules, type FindingRule } from './rules.js';
export { readOpenIReports, parseOpenIXml, meshStatus, readTar, type OpenIReport } from './openi.js';
export { scoreReports, confusion, METRICS, MESH_FOR_FINDING, type ScoredReport, type Confusion, type MetricName } from './score.js';
export { createReportIntake, matchReportsOnIngest, type ReportIntake, type IncomingReport } from './intake.js';
export { createMllpServer, MllpDeframer, frame, type MllpServer, type MllpOptions } from './mllp.js';
export { parseHl7, unescapeHl7, buildAck, type Hl7Message } from './hl7.js';
export { readOru, resultStatus, type OruReport } from './oru.js';
export { registerFhirRoutes, readDiagnosticReport, fhirStatus } from './fhir.js';
export { reportCaseLabels } from './case-labels.js';
