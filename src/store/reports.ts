// The report store (shared/reports.ts) in the catalog database: reports keep their history (an amended
// report supersedes, never deletes, the earlier one) and are matched to studies through the object
// index's Study Instance UID and Accession Number columns (object-rows.ts).
import type { NewReport, ReportStore, StoredReport } from '../shared/reports.js';
import { openStore } from './sqlite.js';

interface Row {
  id: number;
  source: NewReport['source'];
  accession_number: string;
  study_instance_uid: string;
  status: NewReport['status'];
  report_text: string;
  message_id: string;
  labels: string;
  received_at: number;
  matched_study_instance_uid: string | null;
  superseded_by: number | null;
  reported_at: number | null;
}

const fromRow = (r: Row): StoredReport => ({
  id: r.id,
  source: r.source,
  AccessionNumber: r.accession_number,
  StudyInstanceUID: r.study_instance_uid,
  status: r.status,
  text: r.report_text,
  messageId: r.message_id,
  labels: JSON.parse(r.labels) as StoredReport['labels'],
  receivedAt: r.received_at,
  matchedStudyInstanceUID: r.matched_study_instance_uid ?? undefined,
  supersededBy: r.superseded_by ?? undefined,
  ...(r.reported_at === null ? {} : { reportedAt: r.reported_at }),
});

const isFinal = (status: NewReport['status']): boolean => status === 'final' || status === 'corrected';

export function openReportStore(file: string): ReportStore {
  const db = openStore(file);
  const insert = db.prepare(
    `INSERT INTO reports (source, accession_number, study_instance_uid, status, report_text, message_id, labels, received_at, reported_at)
     VALUES (@source, @accession, @study, @status, @text, @messageId, @labels, @now, @reportedAt)`,
  );
  // Same key: the same accession (when both have one), else the same Study Instance UID.
  const sameKey = `superseded_by IS NULL AND id <> @id AND (
      (@accession <> '' AND accession_number = @accession) OR (@study <> '' AND study_instance_uid = @study))`;
  const finalExists = db.prepare<{ id: number; accession: string; study: string }, { one: number }>(
    `SELECT 1 AS one FROM reports WHERE ${sameKey} AND status IN ('final', 'corrected')`,
  );
  // A current report of the key written after this one (both say when they were written).
  const writtenLater = db.prepare<{ id: number; accession: string; study: string; reportedAt: number }, { id: number; status: NewReport['status'] }>(
    `SELECT id, status FROM reports WHERE ${sameKey} AND reported_at IS NOT NULL AND reported_at > @reportedAt ORDER BY reported_at DESC LIMIT 1`,
  );
  const supersede = db.prepare(`UPDATE reports SET superseded_by = @id WHERE ${sameKey}`);
  const supersedeSelf = db.prepare('UPDATE reports SET superseded_by = id WHERE id = ?');
  const supersededBy = db.prepare('UPDATE reports SET superseded_by = ? WHERE id = ?');
  // A study's keys: its own UID and the Accession Numbers its objects carry. A report whose Study
  // Instance UID is another (a RIS that files its SR in a study of its own) still matches by accession,
  // as put() does for a study that is already here.
  const match = db.prepare(
    `UPDATE reports SET matched_study_instance_uid = @study
     WHERE matched_study_instance_uid IS NULL AND (study_instance_uid = @study OR (accession_number <> '' AND accession_number IN
       (SELECT accession_number FROM dicom_objects WHERE study_instance_uid = @study AND accession_number <> '')))`,
  );
  const studyOfAccession = db.prepare<[string], { study: string }>(
    "SELECT study_instance_uid AS study FROM dicom_objects WHERE accession_number = ? AND origin = 'received' LIMIT 1",
  );
  const studyExists = db.prepare<[string], { one: number }>('SELECT 1 AS one FROM dicom_objects WHERE study_instance_uid = ? LIMIT 1');
  const byId = db.prepare<[number], Row>('SELECT * FROM reports WHERE id = ?');
  const current = db.prepare<[string], Row>(
    "SELECT * FROM reports WHERE matched_study_instance_uid = ? AND superseded_by IS NULL AND status <> 'cancelled' ORDER BY id DESC LIMIT 1",
  );
  const allCurrent = db.prepare<[], Row>(
    "SELECT * FROM reports WHERE matched_study_instance_uid IS NOT NULL AND superseded_by IS NULL AND status <> 'cancelled' ORDER BY id",
  );
  const waiting = db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM reports WHERE matched_study_instance_uid IS NULL AND superseded_by IS NULL');

  const put = db.transaction((report: NewReport, now: number): StoredReport => {
    const params = { accession: report.AccessionNumber, study: report.StudyInstanceUID };
    const reportedAt = report.reportedAt ?? null;
    const info = insert.run({
      ...params,
      source: report.source,
      status: report.status,
      text: report.text,
      messageId: report.messageId,
      labels: JSON.stringify(report.labels),
      now,
      reportedAt,
    });
    const id = Number(info.lastInsertRowid);
    // Arrival order decides, unless both reports say when they were written: then the later-written
    // one stays current, except that a final report replaces a preliminary one written after it.
    const later = reportedAt === null ? undefined : writtenLater.get({ id, ...params, reportedAt });
    if (later && !(isFinal(report.status) && !isFinal(later.status))) supersededBy.run(later.id, id);
    else if (report.status === 'preliminary' && finalExists.get({ id, ...params })) supersedeSelf.run(id);
    else supersede.run({ id, ...params });
    // Match now when the study is here: by the UID the sender gave, else by the accession's study.
    const study =
      report.StudyInstanceUID && studyExists.get(report.StudyInstanceUID)
        ? report.StudyInstanceUID
        : report.AccessionNumber
          ? studyOfAccession.get(report.AccessionNumber)?.study
          : undefined;
    if (study) db.prepare('UPDATE reports SET matched_study_instance_uid = ? WHERE id = ?').run(study, id);
    return fromRow(byId.get(id)!);
  });

  return {
    put,
    matchStudy: (study) => match.run({ study }).changes,
    currentForStudy: (study) => {
      const row = current.get(study);
      return row ? fromRow(row) : undefined;
    },
    currentMatched: () => allCurrent.all().map(fromRow),
    waitingCount: () => waiting.get()!.n,
    close: () => db.close(),
  };
}
