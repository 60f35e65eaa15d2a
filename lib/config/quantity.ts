import { Size } from 'cdk8s';
import { Cpu } from 'cdk8s-plus-27';

/** A memory or storage size: a cdk8s `Size`, or a Kubernetes quantity string such as "512Mi" or "10Gi". */
export type SizeInput = Size | string;

/** A CPU amount: a cdk8s-plus `Cpu`, or a Kubernetes quantity string such as "250m" or "1". */
export type CpuInput = Cpu | string;

const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 };
const DECIMAL: Record<string, number> = { '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12 };

/**
 * Bytes in a size, or undefined when it is not a positive Kubernetes quantity.
 * Accepts what users write in Kubernetes ("512Mi", "10Gi", "1G", "1500000000").
 */
export function sizeToBytes(size: SizeInput): number | undefined {
  const text = typeof size === 'string' ? size.trim() : size.asString();
  const match = /^([0-9]+(?:\.[0-9]+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(text);
  if (!match) return undefined;
  const unit = match[2] ?? '';
  const bytes = Number(match[1]) * (BINARY[unit] ?? DECIMAL[unit]);
  return bytes > 0 && Number.isFinite(bytes) ? Math.round(bytes) : undefined;
}

/** Millicores in a CPU amount, or undefined when it is not a positive quantity. */
export function cpuToMillis(cpu: CpuInput): number | undefined {
  const text = typeof cpu === 'string' ? cpu.trim() : String(cpu.amount);
  const match = /^([0-9]+(?:\.[0-9]+)?)(m)?$/.exec(text);
  if (!match) return undefined;
  const millis = match[2] ? Number(match[1]) : Number(match[1]) * 1000;
  return millis > 0 ? millis : undefined;
}

/** Mebibytes, rounded down: the unit every memory setting is rendered in. */
export function mebibytes(bytes: number): number {
  return Math.floor(bytes / 2 ** 20);
}

/**
 * A byte count in Kubernetes' canonical form ("5Gi", not "5120Mi"): the API server stores
 * quantities canonically, and anything else would show as a change on every apply.
 */
export function formatBytes(bytes: number): string {
  for (const [suffix, factor] of [['Ti', 2 ** 40], ['Gi', 2 ** 30], ['Mi', 2 ** 20], ['Ki', 2 ** 10]] as const) {
    if (bytes >= factor && bytes % factor === 0) return `${bytes / factor}${suffix}`;
  }
  return String(Math.ceil(bytes));
}

/** Millicores in canonical form ("2", "250m"). */
export function formatCpu(millis: number): string {
  return millis % 1000 === 0 ? String(millis / 1000) : `${Math.ceil(millis)}m`;
}
