// The object index (QIDO-RS search, WADO-RS lookup) on its own connection to the catalog database.
import { openStore } from './sqlite.js';
import type { ObjectIndex } from '../shared/dicom-objects.js';
import { fromRow, objectUpsert, type ObjectRow } from './object-rows.js';
import { searchObjects } from './objects-query.js';

export function openObjectIndex(file: string): ObjectIndex {
  const db = openStore(file);
  const upsert = objectUpsert(db);
  const has = db.prepare<[string], { one: number }>('SELECT 1 AS one FROM dicom_objects WHERE sop_instance_uid = ?');
  const under = db.prepare<[{ study: string; series: string | null; instance: string | null }], ObjectRow>(
    `SELECT * FROM dicom_objects WHERE study_instance_uid = @study
       AND (@series IS NULL OR series_instance_uid = @series) AND (@instance IS NULL OR sop_instance_uid = @instance)
     ORDER BY series_number, series_instance_uid, instance_number, sop_instance_uid`,
  );
  const received = (study: string, sources: readonly string[]): boolean =>
    db
      .prepare(`SELECT 1 FROM instances WHERE study_instance_uid = ? AND calling_ae_title IN (${sources.map(() => '?').join(', ')}) LIMIT 1`)
      .get(study, ...sources) !== undefined;
  return {
    search: (query) => searchObjects(db, query),
    objects: (study, series, instance, sources) =>
      sources && (sources.length === 0 || !received(study, sources))
        ? []
        : under.all({ study, series: series ?? null, instance: instance ?? null }).map(fromRow),
    put: upsert,
    has: (uid) => has.get(uid) !== undefined,
    close: () => db.close(),
  };
}
