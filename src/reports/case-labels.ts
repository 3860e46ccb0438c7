// A report as archive labels (StudyLabels, the shape `precedent labels load` gives the case store):
// `normal`, or `abnormal` and its finding labels, with the provenance in clinical.label_source =
// report-rules. Used by `precedent labels from-reports` and, with archive.indexIncoming, for every
// report as it arrives (app/serve.ts). The case store lets operator labels (a CSV) win over these.
import { REPORT_LABEL_SOURCE, type StudyLabels } from '../shared/case-store.js';
import type { ReportLabelSummary, StoredReport } from '../shared/reports.js';

/**
 * Labels of one report, under each key it can meet its cases by: its study (the matched one, else the
 * one it names) and its accession, so that cases made before or after the report both get them.
 */
export function reportCaseLabels(report: StoredReport, read: ReportLabelSummary, rulesName: string): StudyLabels[] {
  const facts: StudyLabels['facts'] = {
    labels: read.status === 'normal' ? ['normal'] : ['abnormal', ...read.findings],
    age: null,
    sex: null,
    outcomes: {},
    clinical: {
      label_source: REPORT_LABEL_SOURCE,
      label_rules: rulesName,
      report_status: report.status,
      report_source: report.source,
      ...(read.uncertain.length > 0 ? { uncertain_findings: read.uncertain.join('|') } : {}),
    },
  };
  const study = report.matchedStudyInstanceUID ?? report.StudyInstanceUID;
  return [
    ...(study ? [{ match: { StudyInstanceUID: study }, facts }] : []),
    ...(report.AccessionNumber ? [{ match: { AccessionNumber: report.AccessionNumber }, facts }] : []),
  ];
}
