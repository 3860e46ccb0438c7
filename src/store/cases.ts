// The historical archive in the catalog's SQLite file (its own connection, same WAL database): cases,
// their change log (replayed by index caches), labels waiting for their study, stored retrieval
// results and thumbnails of cases whose files are not kept. Case vectors are the catalog's `embeddings` rows.
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { openStore } from './sqlite.js';
import {
  REPORT_LABEL_SOURCE,
  type CaseChange,
  type CaseFacts,
  type CaseStore,
  type CaseThumbnail,
  type CaseVector,
  type NewCase,
  type PutResult,
  type StudyLabels,
} from '../shared/case-store.js';
import type { CaseRecord, RetrievalResult } from '../shared/cases.js';
import { caseFingerprint, caseKeyOf } from '../shared/case-keys.js';
import { floats, toRecord, type CaseRow } from './case-rows.js';

const EMPTY: CaseFacts = { labels: [], age: null, sex: null, outcomes: {}, clinical: {} };

function withDemographics(facts: CaseFacts, d: NewCase['demographics']): CaseFacts {
  if (!d) return facts;
  return { ...facts, age: facts.age ?? d.age, sex: facts.sex ?? d.sex };
}

const fromReport = (facts: CaseFacts): boolean => facts.clinical['label_source'] === REPORT_LABEL_SOURCE;
/** Labels someone set on purpose (a CSV, an import): report-rule labels never replace them. */
const operatorLabelled = (facts: CaseFacts): boolean => facts.labels.length > 0 && !fromReport(facts);
const isNormal = (facts: CaseFacts): boolean => facts.labels.some((l) => l.toLowerCase() === 'normal');

/** Operator labels kept against a report's: the report's labels noted where it disagrees on normal / abnormal. */
function withReportOpinion(kept: CaseFacts, report: CaseFacts): CaseFacts {
  const clinical = Object.fromEntries(Object.entries(kept.clinical).filter(([k]) => k !== 'report_disagrees'));
  return { ...kept, clinical: isNormal(kept) === isNormal(report) ? clinical : { ...clinical, report_disagrees: report.labels.join('|') } };
}

function matchOf(m: StudyLabels['match']): [string, string] {
  if ('SOPInstanceUID' in m) return ['sop', m.SOPInstanceUID];
  if ('StudyInstanceUID' in m) return ['study', m.StudyInstanceUID];
  return ['accession', m.AccessionNumber];
}

export function openCaseStore(file: string): CaseStore {
  const db = openStore(file);

  const VECTOR_JOIN = `JOIN embeddings e ON e.sop_instance_uid = c.sop_instance_uid AND e.version = c.instance_version
    AND e.model_name = @name AND e.model_version = @version`;
  const q = {
    bySop: db.prepare<[string], CaseRow>('SELECT * FROM cases WHERE sop_instance_uid = ?').safeIntegers(true),
    insert: db.prepare(`INSERT INTO cases (case_key, sop_instance_uid, instance_version, study_instance_uid, accession_number, study_date,
      patient_key, labels, age, sex, outcomes, clinical, facts_hash, source, seq, created_at, updated_at, retrieve_ae_title, public_collection)
      VALUES (@case_key, @sop, @instance_version, @study, @accession, @study_date, @patient_key,
      @labels, @age, @sex, @outcomes, @clinical, @facts_hash, @source, @seq, @now, @now, @retrieve_ae_title, @public_collection)`),
    update: db.prepare(`UPDATE cases SET instance_version = @instance_version, study_instance_uid = @study, accession_number = @accession,
      study_date = @study_date, patient_key = @patient_key, labels = @labels, age = @age, sex = @sex, outcomes = @outcomes,
      clinical = @clinical, facts_hash = @facts_hash, source = @source, retrieve_ae_title = @retrieve_ae_title, public_collection = @public_collection, seq = COALESCE(@seq, seq),
      updated_at = @now WHERE case_key = @case_key`),
    log: db.prepare('INSERT INTO case_log (case_key, op) VALUES (?, ?)'),
    byKeys: db.prepare<[string], CaseRow>('SELECT * FROM cases WHERE case_key IN (SELECT CAST(value AS INTEGER) FROM json_each(?))').safeIntegers(true),
    existing: db.prepare<
      { sops: string; name: string; version: string },
      { sop_instance_uid: string; facts_hash: string; retrieve_ae_title: string; has_vector: number; has_thumbnail: number }
    >(
      `SELECT c.sop_instance_uid, c.facts_hash, c.retrieve_ae_title, EXISTS (SELECT 1 FROM embeddings e WHERE e.sop_instance_uid = c.sop_instance_uid
         AND e.version = c.instance_version AND e.model_name = @name AND e.model_version = @version) AS has_vector,
         EXISTS (SELECT 1 FROM case_thumbnails t WHERE t.case_key = c.case_key) AS has_thumbnail
       FROM cases c WHERE c.sop_instance_uid IN (SELECT value FROM json_each(@sops))`,
    ),
    keysOfStudy: db.prepare<[string], { case_key: bigint }>('SELECT case_key FROM cases WHERE study_instance_uid = ?').safeIntegers(true),
    keysOfPatient: db.prepare<[string], { case_key: bigint }>("SELECT case_key FROM cases WHERE patient_key = ? AND patient_key != ''").safeIntegers(true),
    deleteCase: db.prepare('DELETE FROM cases WHERE case_key = ?'),
    putThumbnail: db.prepare('INSERT OR REPLACE INTO case_thumbnails (case_key, width, height, pixels) VALUES (?, ?, ?, ?)'),
    thumbnails: db
      .prepare<[string], { case_key: bigint; width: number; height: number; pixels: Buffer }>(
        'SELECT case_key, width, height, pixels FROM case_thumbnails WHERE case_key IN (SELECT CAST(value AS INTEGER) FROM json_each(?))',
      )
      .safeIntegers(true),
    deleteThumbnail: db.prepare('DELETE FROM case_thumbnails WHERE case_key = ?'),
    caseExists: db.prepare<[bigint], { one: number }>('SELECT 1 AS one FROM cases WHERE case_key = ?'),
    deleteEmbeddings: db.prepare('DELETE FROM embeddings WHERE sop_instance_uid = ? AND version = ?'),
    deleteLabelsFor: db.prepare('DELETE FROM case_study_labels WHERE (match_kind = ? AND match_value = ?)'),
    refsOf: db.prepare<[bigint], { sop_instance_uid: string; model_name: string; model_version: string }>(
      'SELECT sop_instance_uid, model_name, model_version FROM case_retrieval_refs WHERE case_key = ?',
    ),
    retrieval: db.prepare<[string, string, string], { result: string }>(
      'SELECT result FROM case_retrievals WHERE sop_instance_uid = ? AND model_name = ? AND model_version = ?',
    ),
    rewriteRetrieval: db.prepare('UPDATE case_retrievals SET result = ? WHERE sop_instance_uid = ? AND model_name = ? AND model_version = ?'),
    deleteRefs: db.prepare('DELETE FROM case_retrieval_refs WHERE case_key = ?'),
    deleteRetrievalsOfStudy: db.prepare('DELETE FROM case_retrievals WHERE study_instance_uid = ?'),
    deleteRetrievalsOfPatient: db.prepare("DELETE FROM case_retrievals WHERE patient_key = ? AND patient_key != ''"),
    putLabels: db.prepare('INSERT OR REPLACE INTO case_study_labels VALUES (?, ?, ?, ?)'),
    labelsFor: db.prepare<[string, string], { facts: string }>('SELECT facts FROM case_study_labels WHERE match_kind = ? AND match_value = ?'),
    casesMatching: db
      .prepare<[string, string, string, string, string, string], CaseRow>(
        `SELECT * FROM cases WHERE (? = 'sop' AND sop_instance_uid = ?) OR (? = 'study' AND study_instance_uid = ?)
         OR (? = 'accession' AND accession_number = ? AND accession_number != '')`,
      )
      .safeIntegers(true),
    setFacts: db.prepare(`UPDATE cases SET labels = @labels, age = @age, sex = @sex, outcomes = @outcomes, clinical = @clinical,
      facts_hash = @facts_hash, updated_at = @now WHERE case_key = @case_key`),
    count: db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM cases'),
    countModel: db.prepare<{ name: string; version: string }, { n: number }>(`SELECT COUNT(*) AS n FROM cases c ${VECTOR_JOIN}`),
    changes: db
      .prepare<[number, number], { seq: bigint; op: 'add' | 'remove'; case_key: bigint }>(
        'SELECT seq, op, case_key FROM case_log WHERE seq > ? ORDER BY seq LIMIT ?',
      )
      .safeIntegers(true),
    lastSeq: db.prepare<[], { seq: number | null }>('SELECT MAX(seq) AS seq FROM case_log'),
    vectors: db
      .prepare<{ keys: string; name: string; version: string }, { case_key: bigint; vector: Buffer }>(
        `SELECT c.case_key, e.vector FROM cases c ${VECTOR_JOIN}
       WHERE c.case_key IN (SELECT CAST(value AS INTEGER) FROM json_each(@keys)) ORDER BY c.case_key`,
      )
      .safeIntegers(true),
    page: db
      .prepare<{ after: bigint; limit: number; name: string; version: string }, { case_key: bigint; vector: Buffer }>(
        `SELECT c.case_key, e.vector FROM cases c ${VECTOR_JOIN} WHERE c.case_key > @after ORDER BY c.case_key LIMIT @limit`,
      )
      .safeIntegers(true),
    putRetrieval: db.prepare('INSERT OR REPLACE INTO case_retrievals VALUES (?, ?, ?, ?, ?, ?, ?)'),
    clearRefs: db.prepare('DELETE FROM case_retrieval_refs WHERE sop_instance_uid = ? AND model_name = ? AND model_version = ?'),
    putRef: db.prepare('INSERT OR IGNORE INTO case_retrieval_refs VALUES (?, ?, ?, ?)'),
    retrievals: db.prepare<[string, string | null, string | null, string | null], { result: string }>(
      `SELECT result FROM case_retrievals WHERE study_instance_uid = ? AND (? IS NULL OR (model_name = ? AND model_version = ?))
       ORDER BY sop_instance_uid`,
    ),
  };

  /** The most specific labels waiting for the case; operator labels before report-rule labels. */
  const pendingFacts = (c: NewCase): CaseFacts => {
    const found: CaseFacts[] = [];
    for (const [kind, value] of [
      ['sop', c.SOPInstanceUID],
      ['study', c.StudyInstanceUID],
      ['accession', c.AccessionNumber],
    ] as const) {
      if (value === '') continue;
      const row = q.labelsFor.get(kind, value);
      if (row) found.push(JSON.parse(row.facts) as CaseFacts);
    }
    const operator = found.find((f) => !fromReport(f));
    const report = found.find(fromReport);
    if (operator && report) return withReportOpinion(operator, report);
    return operator ?? report ?? EMPTY;
  };

  const factColumns = (facts: CaseFacts) => ({
    labels: JSON.stringify(facts.labels),
    age: facts.age,
    sex: facts.sex,
    outcomes: JSON.stringify(facts.outcomes),
    clinical: JSON.stringify(facts.clinical),
  });

  // Deflated: a radiograph's grey thumbnail shrinks by a fifth or so (about 40 KB at 256 px).
  const storeThumbnail = (key: bigint, t: CaseThumbnail): void => {
    q.putThumbnail.run(key, t.width, t.height, deflateRawSync(t.pixels));
  };
  const putThumbnails = db.transaction((thumbnails: ReadonlyMap<bigint, CaseThumbnail>): void => {
    for (const [key, t] of thumbnails) if (q.caseExists.get(key)) storeThumbnail(key, t);
  });

  const put = db.transaction((cases: NewCase[], now: number): PutResult => {
    const result: PutResult = { added: 0, updated: 0, unchanged: 0 };
    for (const c of cases) {
      const key = caseKeyOf(c.SOPInstanceUID);
      const row = q.bySop.get(c.SOPInstanceUID);
      const facts = withDemographics(c.facts ?? (row ? toRecord(row, '').facts : pendingFacts(c)), c.demographics);
      const factsHash = caseFingerprint({ ...c, facts });
      const reindex = c.reindex ?? true;
      if (c.thumbnail) storeThumbnail(key, c.thumbnail);
      // Another version of the image: the old picture no longer shows it.
      else if (row && BigInt(row.instance_version) !== BigInt(c.instanceVersion)) q.deleteThumbnail.run(key);
      if (row && row.facts_hash === factsHash && !reindex) {
        result.unchanged++;
        continue;
      }
      let seq: number | null = null;
      if (reindex || !row) seq = Number(q.log.run(key, 'add').lastInsertRowid);
      const columns = {
        case_key: key,
        sop: c.SOPInstanceUID,
        instance_version: c.instanceVersion,
        study: c.StudyInstanceUID,
        accession: c.AccessionNumber,
        study_date: c.StudyDate,
        patient_key: c.patientKey,
        ...factColumns(facts),
        facts_hash: factsHash,
        source: c.source,
        retrieve_ae_title: c.retrieveAETitle ?? '',
        public_collection: c.publicCollection ?? '',
        seq,
        now,
      };
      if (row) {
        q.update.run(columns);
        result.updated++;
      } else {
        q.insert.run(columns);
        result.added++;
      }
    }
    return result;
  });

  const scrubRetrievals = (key: bigint): void => {
    const keyText = key.toString();
    for (const ref of q.refsOf.all(key)) {
      const row = q.retrieval.get(ref.sop_instance_uid, ref.model_name, ref.model_version);
      if (!row) continue;
      const result = JSON.parse(row.result) as RetrievalResult;
      result.cases = result.cases.filter((s) => s.case.caseKey !== keyText);
      q.rewriteRetrieval.run(JSON.stringify(result), ref.sop_instance_uid, ref.model_name, ref.model_version);
    }
    q.deleteRefs.run(key);
  };

  const remove = db.transaction((selector: Parameters<CaseStore['deleteCases']>[0]): bigint[] => {
    let rows: CaseRow[];
    if ('caseKeys' in selector) rows = q.byKeys.all(JSON.stringify(selector.caseKeys.map(String)));
    else if ('patientKey' in selector)
      rows = selector.patientKey === '' ? [] : q.byKeys.all(JSON.stringify(q.keysOfPatient.all(selector.patientKey).map((r) => String(r.case_key))));
    else rows = q.byKeys.all(JSON.stringify(q.keysOfStudy.all(selector.StudyInstanceUID).map((r) => String(r.case_key))));
    for (const row of rows) {
      q.deleteCase.run(row.case_key);
      q.deleteThumbnail.run(row.case_key);
      q.deleteEmbeddings.run(row.sop_instance_uid, row.instance_version);
      q.deleteLabelsFor.run('sop', row.sop_instance_uid);
      q.deleteLabelsFor.run('study', row.study_instance_uid);
      if (row.accession_number !== '') q.deleteLabelsFor.run('accession', row.accession_number);
      q.deleteRetrievalsOfStudy.run(row.study_instance_uid);
      scrubRetrievals(row.case_key);
      q.log.run(row.case_key, 'remove');
    }
    if ('patientKey' in selector) q.deleteRetrievalsOfPatient.run(selector.patientKey);
    if ('StudyInstanceUID' in selector) q.deleteRetrievalsOfStudy.run(selector.StudyInstanceUID);
    return rows.map((r) => r.case_key);
  });

  const loadLabels = db.transaction((rows: StudyLabels[], now: number) => {
    let casesUpdated = 0;
    let pending = 0;
    for (const r of rows) {
      const [kind, value] = matchOf(r.match);
      if (value === '') continue;
      const weak = fromReport(r.facts);
      const waitingRow = q.labelsFor.get(kind, value);
      const waiting = waitingRow ? (JSON.parse(waitingRow.facts) as CaseFacts) : undefined;
      // A report's labels never replace an operator's row waiting under the same key: they are noted in it.
      const stored = weak && waiting && !fromReport(waiting) ? withReportOpinion(waiting, r.facts) : r.facts;
      q.putLabels.run(kind, value, JSON.stringify(stored), now);
      const matching = q.casesMatching.all(kind, value, kind, value, kind, value);
      if (matching.length === 0) pending++;
      for (const row of matching) {
        const { record, facts: old } = toRecord(row, '');
        // Labels from a CSV without age or sex keep what the DICOM header said; labels from a report
        // leave an operator's in place (noting a disagreement).
        const facts = weak && operatorLabelled(old) ? withReportOpinion(old, r.facts) : withDemographics(r.facts, { age: old.age, sex: old.sex });
        const factsHash = caseFingerprint({ ...record, instanceVersion: Number(row.instance_version), facts });
        if (factsHash === row.facts_hash) continue;
        q.setFacts.run({ case_key: row.case_key, ...factColumns(facts), facts_hash: factsHash, now });
        casesUpdated++;
      }
    }
    return { rows: rows.length, casesUpdated, pending };
  });

  const saveRetrievals = db.transaction((results: RetrievalResult[], now: number, patientKey: string) => {
    for (const r of results) {
      q.putRetrieval.run(r.SOPInstanceUID, r.modelName, r.modelVersion, r.StudyInstanceUID, patientKey, JSON.stringify(r), now);
      q.clearRefs.run(r.SOPInstanceUID, r.modelName, r.modelVersion);
      for (const s of r.cases) q.putRef.run(BigInt(s.case.caseKey), r.SOPInstanceUID, r.modelName, r.modelVersion);
    }
  });

  const toVectors = (rows: { case_key: bigint; vector: Buffer }[]): CaseVector[] => rows.map((r) => ({ caseKey: r.case_key, vector: floats(r.vector) }));

  return {
    putCases: (cases, now) => put(cases, now),
    cases(keys, model) {
      const out = new Map<bigint, CaseRecord>();
      if (keys.length === 0) return out;
      for (const row of q.byKeys.all(JSON.stringify(keys.map(String)))) out.set(row.case_key, toRecord(row, model.version).record);
      return out;
    },
    existing(sops, model) {
      const out = new Map<string, { factsHash: string; retrieveAETitle: string; hasVector: boolean; hasThumbnail: boolean }>();
      for (const r of q.existing.all({ sops: JSON.stringify(sops), name: model.name, version: model.version })) {
        out.set(r.sop_instance_uid, {
          factsHash: r.facts_hash,
          retrieveAETitle: r.retrieve_ae_title,
          hasVector: Number(r.has_vector) === 1,
          hasThumbnail: Number(r.has_thumbnail) === 1,
        });
      }
      return out;
    },
    keysOf({ StudyInstanceUID, patientKey }) {
      const keys = new Set<bigint>();
      if (StudyInstanceUID) for (const r of q.keysOfStudy.all(StudyInstanceUID)) keys.add(r.case_key);
      if (patientKey) for (const r of q.keysOfPatient.all(patientKey)) keys.add(r.case_key);
      return [...keys];
    },
    thumbnails(keys) {
      const out = new Map<bigint, CaseThumbnail>();
      if (keys.length === 0) return out;
      for (const r of q.thumbnails.all(JSON.stringify(keys.map(String)))) {
        out.set(r.case_key, { width: Number(r.width), height: Number(r.height), pixels: new Uint8Array(inflateRawSync(r.pixels)) });
      }
      return out;
    },
    putThumbnails: (thumbnails) => putThumbnails(thumbnails),
    deleteCases: (selector) => remove(selector),
    loadLabels: (rows, now) => loadLabels(rows, now),
    count: (model) => (model ? (q.countModel.get({ name: model.name, version: model.version })?.n ?? 0) : (q.count.get()?.n ?? 0)),
    changes: (afterSeq, limit) => q.changes.all(afterSeq, limit).map((r) => ({ seq: Number(r.seq), op: r.op, caseKey: r.case_key }) satisfies CaseChange),
    lastSeq: () => q.lastSeq.get()?.seq ?? 0,
    vectors: (keys, model) =>
      keys.length === 0 ? [] : toVectors(q.vectors.all({ keys: JSON.stringify(keys.map(String)), name: model.name, version: model.version })),
    vectorPage: (model, afterKey, limit) => toVectors(q.page.all({ after: afterKey, limit, name: model.name, version: model.version })),
    saveRetrievals: (results, patientKey, now) => saveRetrievals(results, now, patientKey),
    retrievals: (uid, model) =>
      q.retrievals.all(uid, model?.name ?? null, model?.name ?? null, model?.version ?? null).map((r) => JSON.parse(r.result) as RetrievalResult),
    close: () => db.close(),
  };
}
