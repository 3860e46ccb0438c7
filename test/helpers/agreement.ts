// The monitor's agreement figures computed the simple way, independently of src/monitor, for the
// tests that check the monitor against them (a confusion matrix at a threshold and a pairwise AUC).
export interface ScoredPair {
  probability: number;
  abnormal: boolean;
}

export function expectedFigures(list: readonly ScoredPair[], threshold: number): Record<'sensitivity' | 'specificity' | 'ppv' | 'f1' | 'auc', number> {
  let tp = 0, fp = 0, fn = 0, tn = 0; // prettier-ignore
  for (const p of list) {
    const called = p.probability >= threshold;
    if (p.abnormal && called) tp++;
    else if (p.abnormal) fn++;
    else if (called) fp++;
    else tn++;
  }
  let wins = 0;
  const pos = list.filter((p) => p.abnormal);
  const neg = list.filter((p) => !p.abnormal);
  for (const a of pos) for (const b of neg) wins += a.probability > b.probability ? 1 : a.probability === b.probability ? 0.5 : 0;
  return {
    sensitivity: tp / (tp + fn),
    specificity: tn / (tn + fp),
    ppv: tp / (tp + fp),
    f1: (2 * tp) / (2 * tp + fp + fn),
    auc: wins / (pos.length * neg.length),
  };
}
