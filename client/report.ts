import type { AutoUpdateRecord } from './auto-update';
import type { PostgresMove } from './updates';
import { PreviewsReport } from './previews';
import { PushCheck } from './push-check';
import { Ledger } from './egress-ledger';
/** The status report's shape: what the cluster and this PC tell, and what a family member reads. */
import { CapacityVerdict, NodeRoom } from './capacity';
import { CertificateCheck } from './trust';
// Kubernetes objects as the API returns them.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = any;

export interface ClusterState {
  readonly now: Date;
  readonly context: string;
  readonly namespace: string;
  readonly namespaceObject?: Obj;
  readonly deployments: Obj[];
  readonly pods: Obj[];
  readonly pvcs: Obj[];
  readonly cronJobs: Obj[];
  readonly jobs: Obj[];
  readonly services: Obj[];
  /** Last log lines of crash-looping containers, by "pod/container". */
  readonly logs: Record<string, string[]>;
  /** The node with the most room, when the cluster has one. */
  readonly room?: NodeRoom;
  /** The cluster's node names: they tell Docker Desktop's cluster type. */
  readonly nodeNames?: string[];
  /** The maintenance lock's Lease, when something holds it or a holder died with it. */
  readonly lease?: Obj;
}

export interface HostInfo {
  readonly lanAddresses: string[];
  /** The record the PC's own copy (`homecloud offsite`, kind clusters) leaves in the folder. */
  readonly pcCopy?: CopyRecord;
  /** One HTTPS handshake with the home cloud on this PC (see trust.ts). */
  readonly certificate?: CertificateCheck;
  /** The last `npm run update` check of the image registries (status never asks them itself). */
  readonly imageCheck?: { readonly checkedAt: string; readonly waiting: ReadonlyArray<{ readonly tag: string; readonly version?: string }> };
  /** main.ts's updates.automatic and the last night's record (.homecloud/auto-update.json). */
  readonly automaticUpdates?: { readonly on: boolean; readonly record?: AutoUpdateRecord };
  /** .homecloud/postgres-move.json: the last move to a new PostgreSQL major. */
  readonly postgresMove?: PostgresMove;
  /** Windows: the project's folders holding secrets that other accounts of the PC can read, and who. */
  readonly secretsExposed?: ReadonlyArray<{ readonly folder: string; readonly readers: string[] }>;
  /** Whether Client Push answers behind nginx (push-check.ts). */
  readonly push?: PushCheck;
  /** The egress point's ledger of the last week (egress-ledger.ts); absent when it is not running. */
  readonly egress?: Ledger;
}

/** One off-disk copy: offsite.sh's termination message, or the PC's own record of it. */
export interface CopyRecord {
  readonly time: string;
  readonly result: 'success' | 'failed';
  readonly folder?: string;
  readonly kib?: number;
  readonly error?: string;
  /** The PC's copy: when it last read every file back, and how many it found damaged then. */
  readonly verified?: string;
  readonly repaired?: number;
  /** When a copy last succeeded, carried across failed ones. */
  readonly lastSuccess?: string;
}

export type ClusterType = 'kubeadm' | 'kind' | 'other';

export interface OffsiteReport {
  /** Who makes the copy, from the backup CronJob: 'cluster' (kubeadm) or 'client' (this PC, kind). */
  readonly mode?: 'cluster' | 'client';
  readonly folder?: string;
  readonly last?: CopyRecord;
  /** repaired: the in-cluster repository was damaged and its files came back from the copy. */
  readonly scrub?: {
    readonly time?: string; readonly result: string; readonly damagedSnapshots?: string; readonly repaired?: boolean;
    /** The repository inside Docker Desktop, and the copy in the folder (kubeadm: read back by the night). */
    readonly repository?: 'good' | 'damaged'; readonly offsiteCopy?: 'good' | 'damaged';
  };
  readonly clusterType: ClusterType;
}

export type ComponentState = 'ready' | 'starting' | 'problem' | 'missing';

export interface ComponentReport {
  readonly name: string;
  readonly deployment: string;
  readonly state: ComponentState;
  /** One sentence: what is going on, and what to do about it. */
  readonly words: string;
  readonly logLines?: string[];
}

export interface BackupReport {
  readonly last?: { readonly time?: string; readonly result: 'success' | 'failed' | 'running' | 'skipped'; readonly snapshot?: string; readonly databaseBytes?: number; readonly filesKiB?: number;
    /** While it runs: for how long so far, and how long it may run in all (backup.timeout). */
    readonly runningSeconds?: number; readonly limitSeconds?: number;
    readonly newKiB?: number; readonly diskKiB?: number; readonly diskFreeKiB?: number; readonly error?: string };
  readonly lastSuccess?: string;
  readonly next?: string;
  readonly schedule?: string;
  readonly timeZone?: string;
}

export interface Report {
  readonly context: string;
  readonly namespace: string;
  readonly installed: boolean;
  readonly healthy: boolean;
  readonly components: ComponentReport[];
  readonly volumes: Array<{ name: string; size: string; state: string }>;
  readonly addresses: { readonly thisPc: string; readonly lan: string[] };
  readonly clients: { readonly caldav: string; readonly carddav: string; readonly webdav: string };
  /** Where a phone gets the home CA (plain HTTP): status shows it as a QR code too. */
  readonly welcome?: string;
  /** The HTTPS certificate the home cloud presents, when it answered. */
  readonly https?: CertificateCheck;
  readonly backup: BackupReport;
  readonly offsite: OffsiteReport;
  /** Whether the PC's Kubernetes has room for the home cloud (see capacity.ts). */
  readonly capacity?: CapacityVerdict;
  /** Whether the apps hear of changes at once (Client Push), as checked from this PC. */
  readonly push?: PushCheck;
  /** The nightly thumbnail job's last run (client/previews.ts). */
  readonly previews?: PreviewsReport;
  /** Every destination contacted or refused in the last week (client/egress-ledger.ts). */
  readonly egress?: Ledger;
  /** The maintenance lock: what runs now, or what was cut short (client/maintenance.ts). */
  readonly maintenance?: { readonly running?: string; readonly interrupted?: string; readonly halfDone?: boolean };
  /** Image updates: when last checked and what was waiting then. */
  readonly updates: {
    readonly checkedAt?: string;
    readonly waiting: string[];
    /** The nightly update: one line, and whether it took something back (update-report.ts). */
    readonly automatic?: { readonly when?: string; readonly words: string; readonly warn: boolean; readonly on: boolean };
    /** An earlier PostgreSQL major's data kept on the volume after a move, until `until`. */
    readonly keptPostgres?: { readonly from: number; readonly to: number; readonly until: string };
  };
  readonly warnings: string[];
}
