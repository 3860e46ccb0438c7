// The metric definitions, written into eval.json and eval.md so that every number can be read
// without the code.
export const DEFINITIONS: Record<string, string> = {
  exclusion:
    "For each query, only images of OTHER patient groups are searchable: never the query itself, its patient's other films, or a duplicate filed under another patient id (patient_group). Search is exact (every cosine similarity is computed).",
  relevance: 'A retrieved image is relevant when its class equals the query class.',
  'P@k':
    'P@k = (relevant images among the k nearest) / k, averaged over the queries that have at least one relevant searchable image (k is the denominator even if fewer than k images are searchable). Queries without any relevant searchable image (no image of their class from another patient group in the subset) are left out of P@k and mAP@10 and counted (queriesWithoutRelevant); the vote still counts them.',
  'mAP@10':
    'mAP@10 = mean over queries of AP@10, AP@10 = sum_{k<=10} P@k * rel_k / min(10, R), with rel_k = 1 when the k-th neighbour is relevant and R = number of relevant searchable images (queries with R = 0 are left out, see P@k).',
  vote: 'k-NN vote: the k nearest neighbours vote for their class with weight max(cosine similarity, 0) (equal weights if all are <= 0); p(class) = class weight / total weight; the prediction is the class with the largest p (ties: larger summed similarity, then class order).',
  accuracy: 'Share of queries whose voted class is their class.',
  balancedAccuracy: 'Mean of the per-class sensitivities over the classes that have queries.',
  chance:
    'What a vote that ignores the image scores on the same queries: balanced accuracy 1 / C (C = classes present among the queries; any such vote), and accuracy = the share of the most frequent class (always voting it). Compare vote accuracy with the latter and balanced accuracy with the former.',
  sensitivity: 'Per class c: TP / (TP + FN), queries of class c voted c.',
  specificity: 'Per class c: TN / (TN + FP), queries of other classes not voted c.',
  AUC: 'Per class c: one-vs-rest ROC AUC of p(c) (Mann-Whitney, ties count 1/2); macroAUC = mean over the classes with at least 5 queries (and queries of another class), listed in macroAUCClasses with the classes left out (a bootstrap resample that lacks one of these classes is skipped for macroAUC and balanced accuracy, so every resample averages the same classes).',
  ci95: '2.5th and 97.5th percentiles over bootstrap resamples of the query patient groups (cluster bootstrap: groups drawn with replacement, each query weighted by how often its group was drawn; the gallery stays fixed). Differences between models use the same draws (paired). A value without an interval: the statistic was undefined in more than half of the resamples (e.g. macroAUC when a class has one or two patient groups).',
  rawPixel:
    'raw-pixel baseline: the decoded image resized to 32 x 32 by area averaging (aspect ignored), standardised per image (zero mean, unit variance), cosine similarity.',
  adultsOnly:
    "--adults-only: a row is left out when its age column reads under 18 years ('52', '67+', DICOM '045Y' / '018M'); a row without a readable age (or a CSV without an age column) is left out only if its collection is the pediatric one (dataset starting with 'kermany').",
  subsets:
    "pooled: all queries against all gallery images. adult: queries from every collection except the pediatric Kermany set (dataset starting with 'kermany'), searching only those collections. Per collection: queries and gallery of that collection only.",
};
