// `labels from-reports`: stored reports become study labels with their provenance, read again with the
// rules given; report store history (amendment, preliminary after final, waiting and matching).
import { join } from 'node:path';
import { receivedObject } from './helpers/indexed-object.js';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { openCaseStore, openCatalog, openObjectIndex, openReportStore } from '../src/store/index.js';
import type { NewReport, ReportStore } from '../src/shared/reports.js';
import { labelsFromReports, REPORT_LABEL_SOURCE } from '../src/commands/labels-reports.js';
import { createLabeller, reportRules } from '../src/reports/index.js';
import { tempDir } from './helpers/node.js';

const opened: Array<{ close(): void }> = [];
afterEach(() => opened.splice(0).forEach((o) => o.close()));

function arrived(file: string, study: string, accession: string): void {
  const objects = openObjectIndex(file);
  const o = receivedObject(study, accession);
  objects.put(o);
  objects.close();
}

const labeller = createLabeller(reportRules());
const report = (accession: string, text: string, status: NewReport['status'] = 'final'): NewReport => {
  const l = labeller.label(text);
  return {
    source: 'hl7',
    AccessionNumber: accession,
    StudyInstanceUID: '',
    status,
    text,
    messageId: 'm',
    labels: { status: l.status, findings: l.findings, uncertain: l.uncertain },
  };
};

function store(): { file: string; reports: ReportStore; dir: string } {
  const dir = tempDir('precedent-reports-');
  const file = join(dir, 'catalog.sqlite');
  const catalog = openCatalog(file);
  const reports = openReportStore(file);
  opened.push(reports, catalog);
  return { file, reports, dir };
}

describe('report store', () => {
  it('keeps history: an amendment replaces, a later preliminary does not, a waiting report matches on arrival', () => {
    const { file, reports } = store();
    const first = reports.put(report('A1', 'IMPRESSION: Right pleural effusion.'), 1);
    expect(first.matchedStudyInstanceUID).toBeUndefined();
    const amended = reports.put(report('A1', 'IMPRESSION: Normal chest.', 'corrected'), 2);
    reports.put(report('A1', 'IMPRESSION: Pneumothorax.', 'preliminary'), 3);
    expect(reports.waitingCount()).toBe(1);
    arrived(file, '1.2.3.4', 'A1');
    // The replaced reports are matched too: the study keeps its report history.
    expect(reports.matchStudy('1.2.3.4')).toBe(3);
    expect(reports.currentForStudy('1.2.3.4')?.id).toBe(amended.id);
    expect(reports.waitingCount()).toBe(0);
    // A report whose study is already here is matched as it is stored.
    expect(reports.put(report('A1', 'IMPRESSION: Cardiomegaly.', 'corrected'), 4).matchedStudyInstanceUID).toBe('1.2.3.4');
  });

  it('orders reports by when they were written when both say, and opens a catalog made before that column', () => {
    const dir = tempDir('precedent-reports-');
    const file = join(dir, 'catalog.sqlite');
    const old = new Database(file);
    old.exec(`CREATE TABLE reports (id INTEGER PRIMARY KEY, source TEXT NOT NULL, accession_number TEXT NOT NULL, study_instance_uid TEXT NOT NULL,
      status TEXT NOT NULL, report_text TEXT NOT NULL, message_id TEXT NOT NULL, labels TEXT NOT NULL, received_at INTEGER NOT NULL,
      matched_study_instance_uid TEXT, superseded_by INTEGER)`);
    old.close();
    opened.push(openCatalog(file));
    const reports = openReportStore(file);
    opened.push(reports);
    arrived(file, '1.2.3.9', 'C1');
    const later = reports.put({ ...report('C1', 'IMPRESSION: Normal chest.'), reportedAt: 2000 }, 1);
    const older = reports.put({ ...report('C1', 'IMPRESSION: Pneumothorax.'), reportedAt: 1000 }, 2);
    expect(older.supersededBy).toBe(later.id);
    expect(reports.currentForStudy('1.2.3.9')).toMatchObject({ id: later.id, reportedAt: 2000 });
    // A final report replaces a preliminary one even when the preliminary was written after it.
    const prelim = reports.put({ ...report('C1', 'IMPRESSION: Effusion.', 'preliminary'), reportedAt: 3000 }, 3);
    expect(prelim.supersededBy).toBe(prelim.id);
    const pre2 = reports.put({ ...report('C2', 'IMPRESSION: Effusion.', 'preliminary'), reportedAt: 3000 }, 4);
    const fin2 = reports.put({ ...report('C2', 'IMPRESSION: Normal.'), reportedAt: 1000 }, 5);
    expect(fin2.supersededBy).toBeUndefined();
    expect(reports.put({ ...report('C2', 'x'), reportedAt: 1 }, 6).supersededBy).toBe(fin2.id);
    expect(pre2.id).toBeLessThan(fin2.id);
  });
});

describe('labels from-reports', () => {
  it('labels each reported study with provenance, and the case store keeps them for cases to come', () => {
    const { file, reports, dir } = store();
    arrived(file, '1.2.3.5', 'B1');
    arrived(file, '1.2.3.6', 'B2');
    reports.put(report('B1', 'FINDINGS: Enlarged cardiac silhouette. Possible small left effusion.\nIMPRESSION: Cardiomegaly.'), 1);
    reports.put(report('B2', 'IMPRESSION: No acute cardiopulmonary abnormality. No pneumothorax.'), 2);
    reports.put(report('B3', 'IMPRESSION: Pneumonia.'), 3); // no study yet: not labelled
    const entries = labelsFromReports(dir, reportRules(), 'default');
    expect(entries.map((e) => [e.match, e.facts.labels])).toEqual([
      [{ StudyInstanceUID: '1.2.3.5' }, ['abnormal', 'cardiomegaly', 'effusion']],
      [{ StudyInstanceUID: '1.2.3.6' }, ['normal']],
    ]);
    expect(entries[0]?.facts.clinical).toEqual({
      label_source: REPORT_LABEL_SOURCE,
      label_rules: 'default',
      report_status: 'final',
      report_source: 'hl7',
      uncertain_findings: 'effusion',
    });
    // Other rules give other labels from the same stored text.
    const strict = labelsFromReports(dir, { ...reportRules(), uncertainAs: 'ignore' }, 'strict');
    expect(strict[0]?.facts.labels).toEqual(['abnormal', 'cardiomegaly']);
    const cases = openCaseStore(file);
    opened.push(cases);
    expect(cases.loadLabels(entries, 5)).toEqual({ rows: 2, casesUpdated: 0, pending: 2 });
  });
});
