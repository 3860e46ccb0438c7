// Similar cases for query images: search the model's index (excluding the query's own study and
// patient), attach the case records, and vote. The exclusion is by key: every case of the same study
// or the same patient key, so a patient's earlier films never count as "similar cases".
import type { CaseStore } from '../shared/case-store.js';
import type { RetrievalResult, SimilarCase } from '../shared/cases.js';
import type { IndexManager } from './manager.js';
import { knnVote, type VoteOptions } from './vote.js';

export interface QueryImage {
  SOPInstanceUID: string;
  StudyInstanceUID: string;
  vector: Float32Array;
}

export interface RetrieverDeps {
  index: IndexManager;
  cases: CaseStore;
  k: number;
  vote: VoteOptions;
}

export interface Retriever {
  /** One result per image, in the order given. `patientKey` '' excludes no other patient. */
  retrieve(images: QueryImage[], patientKey: string, k?: number): Promise<RetrievalResult[]>;
}

export function createRetriever(deps: RetrieverDeps): Retriever {
  const { index, cases } = deps;
  const model = { name: index.model.name, version: index.model.version };
  return {
    async retrieve(images, patientKey, k = deps.k) {
      if (images.length === 0) return [];
      const excludedByStudy = new Map<string, bigint[]>();
      for (const img of images) {
        if (!excludedByStudy.has(img.StudyInstanceUID)) {
          excludedByStudy.set(img.StudyInstanceUID, cases.keysOf({ StudyInstanceUID: img.StudyInstanceUID, patientKey }));
        }
      }
      const found = await index.search(
        images.map((i) => i.vector),
        k,
        images.map((i) => excludedByStudy.get(i.StudyInstanceUID) ?? []),
      );
      const records = cases.cases([...new Set(found.flat().map((n) => n.key))], model);
      return images.map((img, i) => {
        const similar: SimilarCase[] = [];
        for (const n of found[i] ?? []) {
          const record = records.get(n.key);
          // Erased between the search and this lookup (another process): left out.
          if (record) similar.push({ rank: similar.length + 1, similarity: n.similarity, case: record });
        }
        return {
          SOPInstanceUID: img.SOPInstanceUID,
          StudyInstanceUID: img.StudyInstanceUID,
          modelName: model.name,
          modelVersion: model.version,
          k,
          cases: similar,
          vote: knnVote(similar, deps.vote),
        };
      });
    },
  };
}
