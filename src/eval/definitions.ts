// The metric definitions, written into eval.json and eval.md so that every number can be read
// without the code.
export const DEFINITIONS: Record<string, string> = {
  exclusion:
    "For each query, only images of OTHER patient groups are searchable: never the query itself, its patient's other films, or a duplicate filed under another patient id (patient_group). Search is exact (every cosine similarity is computed).",
  relevance: 'A retrieved image is relevant when its class equals the query class.',
  'P@k': 'P@k = (relevant images among the k nearest) / k, averaged over queries (k is the denominator even if fewer than k images are searchable).',
  'mAP@10':
    'mAP@10 = mean over queries of AP@10, AP@10 = sum_{k<=10} P@k * rel_k / min(10, R), with rel_k = 1 when the k-th neighbour is relevant and R = number of relevant searchable images (AP@10 = 0 when R = 0).',
  vote: 'k-NN vote: the k nearest neighbours vote for their class with weight max(cosine similarity, 0) (equal weights if all are <= 0); p(class) = class weight / total weight; the prediction is the class with the largest p (ties: larger summed similarity, then class order).',
  accuracy: 'Share of queries whose voted class is their class.',
  balancedAccuracy: 'Mean of the per-class sensitivities over the classes that have queries.',
  sensitivity: 'Per class c: TP / (TP + FN), queries of class c voted c.',
  specificity: 'Per class c: TN / (TN + FP), queries of other classes not voted c.',
  AUC: 'Per class c: one-vs-rest ROC AUC of p(c) (Mann-Whitney, ties count 1/2); macroAUC = mean over the classes with both positive and negative queries (a bootstrap resample that lacks one of these classes is skipped for macroAUC and balanced accuracy, so every resample averages the same classes).',
  ci95:
    '2.5th and 97.5th percentiles over bootstrap resamples of the query patient groups (cluster bootstrap: groups drawn with replacement, each query weighted by how often its group was drawn; the gallery stays fixed). Differences between models use the same draws (paired). A value without an interval: the statistic was undefined in more than half of the resamples (e.g. macroAUC when a class has one or two patient groups).',
  rawPixel: 'raw-pixel baseline: the decoded image resized to 32 x 32 by area averaging (aspect ignored), standardised per image (zero mean, unit variance), cosine similarity.',
  subsets:
    "pooled: all queries against all gallery images. adult: queries from every collection except the pediatric Kermany set (dataset starting with 'kermany'), searching only those collections. Per collection: queries and gallery of that collection only.",
};
