// The resolved GPU record everything downstream reads. Built once from data/gpus.yaml by catalog.ts;
// all quantities are integers in base units (bytes, bytes/s, FLOP/s, watts, USD).

export type GpuClass = "consumer" | "workstation" | "datacenter";
export type CloudKind = "on-demand" | "spot" | "serverless";
/** Where usableBytes came from: torch-reported (CASES.md logs), derived (nominal x 0.97), inferred (sibling card). */
export type UsableSource = "torch-reported" | "derived" | "inferred";

export interface CloudOffer {
  readonly provider: string;
  /** Price of one GPU for one hour, USD. */
  readonly usdPerHour: number;
  readonly kind: CloudKind;
  /** Snapshot date, YYYY-MM or YYYY-MM-DD; null where the source shows none. */
  readonly date: string | null;
  readonly source: string;
}

export interface PriceRange {
  readonly low: number;
  readonly high: number;
  /** When the range applies (YYYY, YYYY-MM or YYYY-MM-DD), if known. */
  readonly date?: string;
  readonly source?: string;
}

export interface Gpu {
  /** Canonical name, spelled as in gpus.csv. */
  readonly name: string;
  readonly aliases: readonly string[];
  readonly arch: string;
  /** "major.minor", e.g. "8.9" for sm_89. */
  readonly computeCapability: string;
  /** streaming multiprocessors, or null when unknown (kernels that launch fewer blocks than SMs leave part
   *  of the memory bandwidth idle) */
  readonly smCount: number | null;
  readonly memType: string;
  /** Marketed size in bytes (GPU memory is binary: "24GB" = 24 GiB). */
  readonly vramBytesNominal: number;
  /** torch total_memory: what the process can see before its CUDA context. */
  readonly usableBytes: number;
  readonly usableSource: UsableSource;
  readonly memBandwidthBytesPerS: number;
  /** Dense BF16 tensor rate with FP32 accumulate (FP16 for cards without bf16). */
  readonly bf16DenseFlopsPerS: number;
  readonly bf16Native: boolean;
  /** Measured max achievable BF16 matmul (stas00 MAMF), or null. */
  readonly measuredMatmulFlopsPerS: number | null;
  readonly gpuClass: GpuClass;
  readonly tdpWatts: number | null;
  /** YYYY, YYYY-MM or YYYY-MM-DD. */
  readonly launchDate: string;
  readonly launchPriceUsd: number | null;
  readonly usedPriceUsd: PriceRange | null;
  readonly cloud: readonly CloudOffer[];
  readonly specSource: string;
  readonly priceSource: string;
  readonly notes: string;
}
