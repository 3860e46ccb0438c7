// Reports in, whatever brought them (MLLP, FHIR): labelled by the rules, stored with their study (or
// kept until it arrives). Logs carry counts, ids and outcomes only: never report text, accession
// numbers or patient data.
import type { Logger } from '../shared/log.js';
import type { IngestService } from '../shared/types.js';
import type { NewReport, ReportSource, ReportStatus, ReportStore, StoredReport } from '../shared/reports.js';
import type { Labeller } from './labeller.js';

export interface IncomingReport {
  AccessionNumber: string;
  StudyInstanceUID: string;
  status: ReportStatus;
  text: string;
}

export interface ReportIntake {
  receive(source: ReportSource, messageId: string, reports: readonly IncomingReport[]): StoredReport[];
}

export function createReportIntake(deps: { store: ReportStore; labeller: Labeller; log: Logger; now: () => number }): ReportIntake {
  return {
    receive(source, messageId, reports) {
      return reports.map((r) => {
        const labels = deps.labeller.label(r.text);
        const report: NewReport = { source, messageId, ...r, labels: { status: labels.status, findings: labels.findings, uncertain: labels.uncertain } };
        const stored = deps.store.put(report, deps.now());
        deps.log.info({ source, messageId, reportId: stored.id, status: r.status, matched: stored.matchedStudyInstanceUID !== undefined }, 'report stored');
        return stored;
      });
    },
  };
}

/** Wraps ingest so that every stored object's study picks up the reports that were waiting for it. */
export function matchReportsOnIngest(ingest: IngestService, store: ReportStore, log: Logger): IngestService {
  return {
    begin(request, requestLog) {
      const receiver = ingest.begin(request, requestLog);
      return {
        stream: receiver.stream,
        discard: () => receiver.discard(),
        complete: async () => {
          const outcome = await receiver.complete();
          try {
            const matched = store.matchStudy(outcome.StudyInstanceUID);
            if (matched > 0) log.info({ matched }, 'waiting reports (with their history) matched to an arriving study');
          } catch (err) {
            // Matching is retried with the next object of the study; never fail a stored object for it.
            log.warn({ err: err instanceof Error ? err.message : String(err) }, 'report matching failed');
          }
          return outcome;
        },
      };
    },
  };
}
