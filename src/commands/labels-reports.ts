// `precedent labels from-reports`: the site's own reports become the labels of its archive studies.
// Each current report matched to a study is read again with the configured rules (so a rules change
// applies to old reports too) and loaded like a labels CSV row keyed by Study Instance UID: cases of
// the study get the labels now, or when they are embedded later. Provenance sits in the facts:
// clinical.label_source = report-rules (CSV rows loaded by `labels load` say csv).
import type { StudyLabels } from '../shared/case-store.js';
import { openReportStore, catalogFile } from '../store/index.js';
import { createLabeller, reportCaseLabels } from '../reports/index.js';

export { REPORT_LABEL_SOURCE } from '../shared/case-store.js';

export function labelsFromReports(dataDir: string, rules: Parameters<typeof createLabeller>[0], rulesName: string): StudyLabels[] {
  const store = openReportStore(catalogFile(dataDir));
  try {
    const labeller = createLabeller(rules);
    // The matched study only: these reports are read again now, their cases are known by study.
    return store.currentMatched().flatMap((r) => reportCaseLabels(r, labeller.label(r.text), rulesName).slice(0, 1));
  } finally {
    store.close();
  }
}
