// Input problems of `precedent eval` (a bad CSV, split or label map): the command prints them and
// exits with status 2, like an invalid configuration.
export class EvalInputError extends Error {
  readonly code = 'EVAL_INPUT_INVALID';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EvalInputError';
  }
}

export function isEvalInputError(err: unknown): err is EvalInputError {
  return err instanceof EvalInputError;
}
