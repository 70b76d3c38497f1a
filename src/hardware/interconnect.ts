// The link a GPU uses to exchange tensors with its peers in one machine (NCCL collectives of DDP, ZeRO, FSDP,
// tensor parallel) and with the host (CPU offload). Derived from the catalog's facts, not fitted:
//  - SXM modules are joined by NVLink: V100 SXM2 300 GB/s total (150 GB/s each way), A100 600 GB/s total (300 GB/s
//    each way), Hopper (H100/H200/H20 SXM) 900 GB/s total, Blackwell (B200) 1.8 TB/s total (NVIDIA V100, A100, H100
//    and HGX B200 datasheets). The export-market A800 and H800 keep their die but have NVLink cut to 400 GB/s total.
//  - Everything else talks over PCIe x16, per direction: gen 3 16 GB/s (Volta, Turing), gen 4 32 GB/s
//    (Ampere, Ada), gen 5 64 GB/s (Hopper PCIe, Blackwell) (PCI-SIG: 16/32 GT/s per lane x 16 lanes).
//  - GeForce cards have no peer-to-peer over PCIe (disabled by the driver since Ada; Ampere GeForce only over an
//    NVLink bridge, which a rented or stock box does not have): NCCL falls back to its SHM transport, which
//    copies through host memory, so every byte crosses PCIe twice (NCCL docs, NCCL_P2P_DISABLE / SHM transport).
//  - Two exceptions by design: GH200 joins its Hopper GPU to the Grace CPU by NVLink-C2C, 900 GB/s total (450 GB/s
//    each way) instead of PCIe, which is what CPU offload crosses (NVIDIA GH200 Grace Hopper Superchip datasheet);
//    H100 NVL cards come in pairs joined by three NVLink bridges, 600 GB/s total (300 GB/s each way) (NVIDIA H100
//    NVL product brief). A pair is what one bridge joins; more than two cards talk across pairs over PCIe, which
//    this per-card link does not show.
// What NCCL achieves on each kind of link is a calibrated number (data/calibration.yaml link_efficiency_*).
import type { Gpu } from "./gpu.js";

export type LinkKind = "nvlink" | "pcie-p2p" | "pcie-host";

export interface Interconnect {
  readonly kind: LinkKind;
  /** nominal bytes per second each way between two GPUs (through the host for pcie-host: half the bus) */
  readonly peerBytesPerS: number;
  /** nominal bytes per second each way between this GPU and host memory (PCIe) */
  readonly hostBytesPerS: number;
}

const GB = 1e9;

function pcieBytesPerS(gpu: Gpu): number {
  const [major = 0, minor = 0] = gpu.computeCapability.split(".").map(Number);
  if (major >= 10 || (major === 9 && minor === 0) || major === 12) return 64 * GB; // PCIe 5.0 x16
  if (major === 7) return 16 * GB; // Volta (V100), Turing (T4, RTX 20): PCIe 3.0 x16
  return 32 * GB; // PCIe 4.0 x16: Ampere, Ada
}

/** NVLink bandwidth each way (half the datasheet's bidirectional total), by generation. */
function nvlinkEachWayGB(gpu: Gpu): number {
  if (/\b[AH]800\b/i.test(gpu.name)) return 200; // A800 / H800: 400 GB/s total
  const major = Number(gpu.computeCapability.split(".")[0]);
  if (major >= 10) return 900; // NVLink 5 (B200): 1.8 TB/s
  if (major === 9) return 450; // NVLink 4 (Hopper): 900 GB/s
  if (major === 7) return 150; // NVLink 2 (V100 SXM2): 300 GB/s
  return 300; // NVLink 3 (A100): 600 GB/s
}

export function interconnect(gpu: Gpu): Interconnect {
  // GH200: the host is across NVLink-C2C, not PCIe
  const host = /\bGH200\b/i.test(gpu.name) ? 450 * GB : pcieBytesPerS(gpu);
  if (/\bH100 NVL\b/i.test(gpu.name)) return { kind: "nvlink", peerBytesPerS: 300 * GB, hostBytesPerS: host };
  const sxm = /\bSXM|\bH20\b/i.test(gpu.name) || gpu.aliases.some((a) => /sxm/i.test(a));
  if (sxm) return { kind: "nvlink", peerBytesPerS: nvlinkEachWayGB(gpu) * GB, hostBytesPerS: host };
  if (gpu.gpuClass === "consumer") return { kind: "pcie-host", peerBytesPerS: host / 2, hostBytesPerS: host };
  return { kind: "pcie-p2p", peerBytesPerS: host, hostBytesPerS: host };
}
