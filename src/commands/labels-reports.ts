// `precedent labels from-reports`: the site's own reports become the labels of its archive studies.
// Each current report matched to a study is read again with the configured rules (so a rules change
// applies to old reports too) and loaded like a labels CSV row keyed by Study Instance UID: cases of
// the study get the labels now, or when they are embedded later. Provenance sits in the facts:
// clinical.label_source = report-rules (CSV rows loaded by `labels load` say csv).
import { join } from 'node:path';
import type { StudyLabels } from '../shared/case-store.js';
import type { StoredReport } from '../shared/reports.js';
import { openReportStore } from '../store/index.js';
import { createLabeller, type Labeller } from '../reports/index.js';

export const REPORT_LABEL_SOURCE = 'report-rules';

/** Labels of one report: `normal`, or `abnormal` and its finding labels; provenance in clinical. */
export function reportLabels(report: StoredReport, labeller: Labeller, rulesName: string): StudyLabels {
  const read = labeller.label(report.text);
  return {
    match: { StudyInstanceUID: report.matchedStudyInstanceUID ?? report.StudyInstanceUID },
    facts: {
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
    },
  };
}

export function labelsFromReports(dataDir: string, rules: Parameters<typeof createLabeller>[0], rulesName: string): StudyLabels[] {
  const store = openReportStore(join(dataDir, 'catalog.sqlite'));
  try {
    const labeller = createLabeller(rules);
    return store.currentMatched().map((r) => reportLabels(r, labeller, rulesName));
  } finally {
    store.close();
  }
}
