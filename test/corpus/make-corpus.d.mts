export interface CorpusCase {
  readonly id: string;
  readonly kind: string;
  readonly what: string;
  readonly argv: string[];
  readonly exit: number;
}
export const GOOD_CONFIG: Record<string, unknown>;
export function makeCorpus(root: string): { cases: CorpusCase[]; store: string };
