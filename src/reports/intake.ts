// Reports in, whatever brought them (MLLP, FHIR, a DICOM SR on the SCP or STOW-RS): labelled by the
// rules, stored with their study (or kept until it arrives), then handed to `onStored` (app/serve.ts labels
// archive.indexIncoming cases with them). Logs carry counts, ids and outcomes only: never report text, accession
// numbers or patient data.
import type { Logger } from '../shared/log.js';
import type { IngestService } from '../shared/types.js';
import type { IncomingReport, NewReport, ReportSource, ReportStore, StoredReport } from '../shared/reports.js';
import type { Labeller } from './labeller.js';

export type { IncomingReport } from '../shared/reports.js';

export interface ReportIntake {
  receive(source: ReportSource, messageId: string, reports: readonly IncomingReport[]): StoredReport[];
}

export function createReportIntake(deps: {
  store: ReportStore;
  labeller: Labeller;
  log: Logger;
  now: () => number;
  onStored?: (report: StoredReport) => void;
}): ReportIntake {
  return {
    receive(source, messageId, reports) {
      return reports.map((r) => {
        const labels = deps.labeller.label(r.text);
        const report: NewReport = { source, messageId, ...r, labels: { status: labels.status, findings: labels.findings, uncertain: labels.uncertain } };
        const stored = deps.store.put(report, deps.now());
        deps.log.info(
          {
            source,
            messageId,
            reportId: stored.id,
            status: r.status,
            matched: stored.matchedStudyInstanceUID !== undefined,
            current: stored.supersededBy === undefined,
          },
          'report stored',
        );
        try {
          deps.onStored?.(stored);
        } catch (err) {
          // The report is stored; what follows from it (case labels) must not turn into a NAK.
          deps.log.warn({ reportId: stored.id, err: err instanceof Error ? err.message : String(err) }, 'report stored, but acting on it failed');
        }
        return stored;
      });
    },
  };
}

/**
 * Wraps ingest so that every stored object's study picks up the reports that were waiting for it, and
 * a radiology report read from a received SR is filed like any other (its text leaves here in no outcome).
 */
export function matchReportsOnIngest(ingest: IngestService, store: ReportStore, log: Logger, intake?: ReportIntake): IngestService {
  return {
    begin(request, requestLog) {
      const receiver = ingest.begin(request, requestLog);
      return {
        stream: receiver.stream,
        discard: () => receiver.discard(),
        complete: async () => {
          const { report, ...outcome } = await receiver.complete();
          try {
            const matched = store.matchStudy(outcome.StudyInstanceUID);
            if (matched > 0) log.info({ matched }, 'waiting reports (with their history) matched to an arriving study');
          } catch (err) {
            // Matching is retried with the next object of the study; never fail a stored object for it.
            log.warn({ err: err instanceof Error ? err.message : String(err) }, 'report matching failed');
          }
          // The SR is durable and catalogued: a report that cannot be filed now is logged, and the SR is
          // still acknowledged (sending it again would be answered as a duplicate, never read again).
          if (report && intake) {
            try {
              intake.receive('dicom-sr', outcome.SOPInstanceUID, [report]);
            } catch (err) {
              log.error(
                { SOPInstanceUID: outcome.SOPInstanceUID, err: err instanceof Error ? err.message : String(err) },
                'report of a structured report could not be stored',
              );
            }
          }
          return outcome;
        },
      };
    },
  };
}
