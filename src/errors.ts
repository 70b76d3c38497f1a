/** An error caused by the user's input: printed as one line, exit code 2, never a stack trace. */
export class FitlabInputError extends Error {
  readonly exitCode = 2;
  constructor(message: string) { super(message); this.name = "FitlabInputError"; }
}
