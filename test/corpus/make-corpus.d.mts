export interface CorpusCase {
  readonly id: string;
  readonly kind: string;
  readonly what: string;
  readonly argv: string[];
  readonly exit: number;
  /** environment for this case only (FITLAB_HOME with a bad calibration.json, HF_HUB_OFFLINE) */
  readonly env?: Record<string, string>;
  /** a data file no flag names (engine profiles, calibrated numbers): the loader is called with it */
  readonly load?: { readonly kind: "engines" | "calibration-yaml"; readonly file: string };
}
export const GOOD_CONFIG: Record<string, unknown>;
export function makeCorpus(root: string): { cases: CorpusCase[]; store: string };
