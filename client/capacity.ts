import { RUNS_LAST_ANNOTATION, WAITS_FOR_ANNOTATION } from '../lib/config/labels';
import { cpuToMillis, sizeToBytes } from '../lib/config/quantity';

// Kubernetes objects are open-ended JSON here, as in the rest of the client.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = any;

/**
 * Does the PC's Kubernetes have room for the home cloud? Pure: the manifests, the node and
 * the pods already on it come in; a verdict in plain words comes out.
 *
 * What homecloud asks for is what runs at once: the Deployments and the nightly backup (the
 * restore and export templates run on demand, the restore only while Nextcloud is stopped).
 * Requests must fit into what the node can still hand out, or Kubernetes leaves the pods
 * Pending: deploy refuses. Limits beyond it mean the programs may be killed for memory when
 * busy: a warning. CPU limits only slow things down, so only CPU requests count.
 */
export interface Demand {
  readonly cpuRequestMillis: number;
  readonly memoryRequestBytes: number;
  readonly memoryLimitBytes: number;
  /** What the pods' emptyDir volumes may fill, at most (their sizeLimits). */
  readonly scratchBytes: number;
}

export interface NodeRoom {
  readonly node: string;
  readonly cpuMillis: number;
  readonly memoryBytes: number;
  readonly ephemeralBytes: number;
  /** Requests of the pods already on the node that are not homecloud's. */
  readonly othersCpuMillis: number;
  readonly othersMemoryBytes: number;
}

export type CapacityLevel = 'fits' | 'tight' | 'too-small';

export interface CapacityVerdict {
  readonly level: CapacityLevel;
  /** One sentence per finding, each with the fix. */
  readonly findings: string[];
}

const MiB = 2 ** 20;
const GiB = 2 ** 30;

/** The workloads, from the manifests or from the cluster (list items carry no `kind`). */
export interface Workloads {
  readonly deployments: Obj[];
  readonly cronJobs: Obj[];
}

export function workloadsIn(objects: Obj[]): Workloads {
  return { deployments: objects.filter((o) => o.kind === 'Deployment'), cronJobs: objects.filter((o) => o.kind === 'CronJob') };
}


function podTemplates(w: Workloads): Array<{ spec: Obj; replicas: number; runsLast: string[] }> {
  const runsLast = (t: Obj) => String(t.metadata?.annotations?.[RUNS_LAST_ANNOTATION] ?? '').split(',').filter(Boolean);
  const scheduled = w.cronJobs.filter((c) => !c.spec.suspend);
  const template = (c: Obj) => c.spec.jobTemplate.spec.template;
  const waitsFor = (c: Obj) => template(c).metadata?.annotations?.[WAITS_FOR_ANNOTATION];
  // A job that waits for another counts as part of that one's last phase (see WAITS_FOR_ANNOTATION).
  const waiting = (name: string | undefined) => scheduled.filter((c) => name !== undefined && waitsFor(c) === name);
  const withWaiting = (c: Obj) => {
    const others = waiting(c.metadata?.name).map((o) => template(o).spec);
    const spec = template(c).spec;
    return {
      spec: { ...spec, containers: [...spec.containers, ...others.flatMap((o) => o.containers)], volumes: [...(spec.volumes ?? []), ...others.flatMap((o) => o.volumes ?? [])] },
      replicas: 1,
      runsLast: [...runsLast(template(c)), ...others.flatMap((o) => o.containers.map((x: Obj) => x.name))],
    };
  };
  return [
    // A Deployment someone scaled to zero (an interrupted restore) still counts: it comes back.
    ...w.deployments.map((d) => ({ spec: d.spec.template.spec, replicas: Math.max(1, d.spec.replicas ?? 1), runsLast: runsLast(d.spec.template) })),
    ...scheduled.filter((c) => waitsFor(c) === undefined || !scheduled.some((o) => o.metadata?.name === waitsFor(c))).map(withWaiting),
  ];
}

type Pick = (resources: Obj) => string | undefined;
type Parse = (quantity: string) => number | undefined;

/**
 * One pod's share of a resource: its containers together, or its largest init container (init
 * containers run one at a time, before the others). The scheduler reserves requests for every
 * container at once; for use (limits), containers in `runsLast` count as a phase of their own.
 */
function podQuantity(spec: Obj, pick: Pick, parse: Parse, runsLast: string[] = []): number {
  const of = (c: Obj) => parse(pick(c.resources ?? {}) ?? '0') ?? 0;
  const sum = (cs: Obj[]) => cs.reduce((n: number, c: Obj) => n + of(c), 0);
  const all: Obj[] = spec.containers ?? [];
  const containers = Math.max(sum(all.filter((c) => !runsLast.includes(c.name))), sum(all.filter((c) => runsLast.includes(c.name))));
  return Math.max(containers, ...(spec.initContainers ?? []).map(of));
}

/** What the workloads ask of the node when everything that runs together runs. */
export function demandOf(workloads: Workloads): Demand {
  let cpu = 0;
  let memory = 0;
  let limit = 0;
  let scratch = 0;
  for (const { spec, replicas, runsLast } of podTemplates(workloads)) {
    cpu += replicas * podQuantity(spec, (r) => r.requests?.cpu, cpuToMillis);
    memory += replicas * podQuantity(spec, (r) => r.requests?.memory, sizeToBytes);
    limit += replicas * podQuantity(spec, (r) => r.limits?.memory, sizeToBytes, runsLast);
    scratch += replicas * (spec.volumes ?? []).reduce((n: number, v: Obj) => n + (v.emptyDir ? sizeToBytes(v.emptyDir.sizeLimit ?? '0') ?? 0 : 0), 0);
  }
  return { cpuRequestMillis: cpu, memoryRequestBytes: memory, memoryLimitBytes: limit, scratchBytes: scratch };
}

/** The room on one node: its allocatable resources and what other programs' pods already reserved. */
export function nodeRoom(node: Obj, pods: Obj[], namespace: string): NodeRoom {
  const allocatable = node.status?.allocatable ?? {};
  const others = pods.filter((p) => p.spec?.nodeName === node.metadata.name && p.metadata.namespace !== namespace
    && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed');
  const requested = (pick: Pick, parse: Parse) => others.reduce((n, p) => n + podQuantity(p.spec, pick, parse), 0);
  return {
    node: node.metadata.name,
    cpuMillis: cpuToMillis(String(allocatable.cpu ?? '0')) ?? 0,
    memoryBytes: sizeToBytes(String(allocatable.memory ?? '0')) ?? 0,
    ephemeralBytes: sizeToBytes(String(allocatable['ephemeral-storage'] ?? '0')) ?? 0,
    othersCpuMillis: requested((r) => r.requests?.cpu, cpuToMillis),
    othersMemoryBytes: requested((r) => r.requests?.memory, sizeToBytes),
  };
}

const mib = (b: number) => `${Math.round(b / MiB)} MiB`;
const gib = (b: number) => `${(b / GiB).toFixed(1)} GiB`;
const cores = (m: number) => `${(m / 1000).toFixed(2).replace(/\.?0+$/, '')} CPU`;

/** Docker Desktop on Windows gives its WSL 2 VM half the PC's memory unless .wslconfig says more. */
export const WSL_FIX = 'On Windows, give Docker Desktop more memory: in %UserProfile%\\.wslconfig put the lines '
  + '"[wsl2]" and "memory=8GB" (or more, below what the PC has), run `wsl --shutdown`, and start Docker Desktop again.';

export function capacityVerdict(demand: Demand, room: NodeRoom): CapacityVerdict {
  const freeMemory = room.memoryBytes - room.othersMemoryBytes;
  const freeCpu = room.cpuMillis - room.othersCpuMillis;
  const refusals: string[] = [];
  const warnings: string[] = [];
  if (demand.memoryRequestBytes > freeMemory) {
    refusals.push(`Kubernetes on this PC has ${mib(Math.max(0, freeMemory))} of memory left for new programs, but the home cloud `
      + `needs ${mib(demand.memoryRequestBytes)} reserved; its parts would wait forever to start. ${WSL_FIX}`);
  }
  if (demand.cpuRequestMillis > freeCpu) {
    refusals.push(`Kubernetes on this PC has ${cores(Math.max(0, freeCpu))} left, but the home cloud needs ${cores(demand.cpuRequestMillis)} reserved. `
      + 'Give Docker Desktop more processors (Settings → Resources), or stop other programs in Kubernetes.');
  }
  if (refusals.length === 0 && demand.memoryLimitBytes > freeMemory) {
    warnings.push(`Memory is tight: the home cloud may use up to ${mib(demand.memoryLimitBytes)} when busy, but Kubernetes has `
      + `${mib(Math.max(0, freeMemory))} left; under load a part may be stopped and restarted. ${WSL_FIX}`);
  }
  if (room.ephemeralBytes > 0 && demand.scratchBytes > room.ephemeralBytes) {
    warnings.push(`Temporary space is tight: the home cloud's temporary folders may grow to ${gib(demand.scratchBytes)}, `
      + `but Docker Desktop's disk has ${gib(room.ephemeralBytes)} for them. Enlarge its disk (Settings → Resources → Disk image size).`);
  }
  return { level: refusals.length ? 'too-small' : warnings.length ? 'tight' : 'fits', findings: [...refusals, ...warnings] };
}

/** The node with the most memory left (Docker Desktop has one). */
export function roomiest(rooms: NodeRoom[]): NodeRoom | undefined {
  return [...rooms].sort((a, b) => (b.memoryBytes - b.othersMemoryBytes) - (a.memoryBytes - a.othersMemoryBytes))[0];
}
