import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as QRCode from 'qrcode';
import { lanAddresses } from '../../lib/config/host-facts';
import { exposedFolders, runSync } from '../../lib/config/windows-acl';
import { ImageLock, readLock } from '../../lib/updates/image-lock';
import { caFiles } from '../../lib/https/ca-store';
import { readState } from '../cluster-state';
import { Command, Options } from '../command';
import { EXIT, Io, printJson } from '../io';
import { Kube } from '../kube';
import { readRecord } from '../offsite';
import { credentialsFile, lockFile, manifestPath, namespaceOf, stateFile } from '../project';
import { ClusterState, buildReport, offsiteSettings } from '../status';
import { HostInfo } from '../report';
import { formatReport } from '../status-text';
import { CertificateCheck, checkCertificate } from '../trust';
import { PushCheck, checkPush } from '../push-check';
import { readLedger } from '../egress-ledger';
import { CheckRecord, PostgresMove, readJson, stillWaiting } from '../updates';
import { AutoUpdateRecord } from '../auto-update';
import { AUTOMATIC_UPDATES_ANNOTATION } from '../../lib/config/labels';
// Kubernetes objects are open-ended JSON, as in the rest of the client.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = any;
export async function commandStatus(kube: Kube, o: Options, io: Io): Promise<number> {
  const ns = namespaceOf(o);
  for (;;) {
    const state = await readState(kube, ns, io);
    // What left the home this week (the egress point's ledger, read from its pod), beside the HTTPS checks.
    const [https, egress] = await Promise.all([httpsChecks(state), readLedger(kube, ns, state.pods, state.now)]);
    const host = {
      lanAddresses: lanAddresses(os.networkInterfaces()),
      // The PC's own copy (kind clusters) leaves its record in the folder the settings name.
      pcCopy: readRecord(offsiteSettings(state.cronJobs).folder),
      ...https,
      egress,
      // The last `npm run update` check: status itself never asks a registry.
      // (Without what the lock pins since: an update run after the check installed it.)
      imageCheck: stillWaiting(readJson<CheckRecord>(stateFile('image-check.json')), pinnedNow()),
      // The nightly update: its switch as deployed (on the backup's CronJob), its last night's record.
      automaticUpdates: automaticUpdates(state),
      postgresMove: readJson<PostgresMove>(stateFile('postgres-move.json')),
      // Windows only: file modes mean nothing there, the folders' access lists do.
      secretsExposed: process.platform === 'win32' ? exposedFolders([path.dirname(credentialsFile()), path.dirname(manifestPath())], runSync) : undefined,
    };
    const report = buildReport(state, host);
    if (o.output === 'json') printJson(io, { ...report, apiRequests: kube.requests });
    else {
      // The welcome page's address as a QR code: a phone's camera opens it without typing.
      const qr = report.welcome ? await QRCode.toString(report.welcome, { type: 'terminal', small: true, errorCorrectionLevel: 'L' }) : '';
      io.out(`${o.watch ? '\x1b[2J\x1b[H' : ''}${formatReport(report)}${qr ? `Scan to set up a phone (${report.welcome}):\n${qr}\n` : ''}`);
    }
    if (!o.watch) return report.healthy ? EXIT.OK : EXIT.UNHEALTHY;
    await io.sleep(5000);
  }
}

/**
 * One HTTPS handshake where Docker Desktop publishes the home cloud (the Service's load-balancer
 * address, on this PC), checked against this PC's copy of the home CA. No published address
 * (another cluster, or not yet): nothing to check.
 */
async function httpsChecks(state: ClusterState): Promise<{ certificate?: CertificateCheck; push?: PushCheck }> {
  const svc = state.services.find((s) => s.metadata.name === 'nextcloud');
  const port = svc?.spec?.ports?.find((p: Obj) => p.name === 'https')?.port;
  const ingress = svc?.status?.loadBalancer?.ingress?.[0];
  if (!port || !ingress) return {};
  const caFile = caFiles(credentialsFile()).cert;
  const caPem = fs.existsSync(caFile) ? fs.readFileSync(caFile, 'utf8') : undefined;
  const host = ingress.hostname ?? ingress.ip ?? 'localhost';
  // And whether Client Push answers behind nginx there, as the apps' WebSockets reach it.
  return { certificate: await checkCertificate(host, port, caPem), push: await checkPush(host, port) };
}

/** Whether the nightly update is on (as deployed), and what its last night did. */
function automaticUpdates(state: ClusterState): HostInfo['automaticUpdates'] {
  const switchAt = state.cronJobs.find((c) => c.metadata.name === 'backup')?.metadata.annotations?.[AUTOMATIC_UPDATES_ANNOTATION];
  if (switchAt === undefined) return undefined; // deployed before the switch existed
  return { on: switchAt !== 'off', record: readJson<AutoUpdateRecord>(stateFile('auto-update.json')) };
}

/** The lock as it is; a damaged one is deploy's and update's to explain, not status's. */
function pinnedNow(): ImageLock | undefined {
  try {
    return readLock(lockFile());
  } catch {
    return undefined;
  }
}

export const statusCommand: Command = {
  name: 'status',
  description: 'is the home cloud healthy? addresses, app URLs, backups',
  options: {
    watch: { type: 'boolean', description: 'status: refresh every 5 seconds' },
  },
  run: commandStatus,
};
