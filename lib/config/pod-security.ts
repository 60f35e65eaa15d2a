import * as k8s from '../../imports/k8s';
import { formatBytes, formatCpu } from './quantity';
import { ResolvedResources } from './settings';

/**
 * Security and resource helpers shared by every workload. Every container gets
 * seccomp RuntimeDefault, no privilege escalation and dropped capabilities; the
 * exceptions a given image forces are named where the container is declared.
 */
export const RUNTIME_DEFAULT_SECCOMP: k8s.SeccompProfile = { type: 'RuntimeDefault' };

/** A container that runs as a fixed unprivileged user from its first instruction. */
export function nonRoot(uid: number, gid: number, opts: { readOnlyRootFilesystem?: boolean } = {}): k8s.SecurityContext {
  return {
    runAsUser: uid,
    runAsGroup: gid,
    runAsNonRoot: true,
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: opts.readOnlyRootFilesystem ?? true,
    capabilities: { drop: ['ALL'] },
    seccompProfile: RUNTIME_DEFAULT_SECCOMP,
  };
}

/**
 * A container whose image entrypoint must start as root to chown its volume (host-path
 * provisioners ignore fsGroup) and then drops to its service user. Only the capabilities
 * for that hand-over are kept: chown/chmod files it does not own, and switch user.
 */
export function rootThenDrop(): k8s.SecurityContext {
  return {
    runAsNonRoot: false,
    allowPrivilegeEscalation: false,
    // The entrypoints write to the image (config snippets, the socket directory).
    readOnlyRootFilesystem: false,
    capabilities: { drop: ['ALL'], add: ['CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'SETUID', 'SETGID'] },
    seccompProfile: RUNTIME_DEFAULT_SECCOMP,
  };
}

export function resourceRequirements(r: ResolvedResources): k8s.ResourceRequirements {
  return {
    requests: { cpu: k8s.Quantity.fromString(formatCpu(r.cpuRequestMillis)), memory: k8s.Quantity.fromString(formatBytes(r.memoryRequestBytes)) },
    limits: { cpu: k8s.Quantity.fromString(formatCpu(r.cpuLimitMillis)), memory: k8s.Quantity.fromString(formatBytes(r.memoryLimitBytes)) },
  };
}

/**
 * Pod-level defaults for every homecloud pod: no Kubernetes API token (nothing here talks
 * to the API) and no service-link variables (a Service named like an image's settings,
 * e.g. REDIS_PORT, would otherwise leak into its environment).
 */
export const POD_DEFAULTS = {
  automountServiceAccountToken: false,
  enableServiceLinks: false,
} as const;

/**
 * IfNotPresent: with cdk8s-plus's `Always`, a pod restarting while the PC is offline could
 * not start at all. Tags are pinned to a major, so updates come from `deploy` re-rolling.
 */
export const PULL_POLICY = 'IfNotPresent';
