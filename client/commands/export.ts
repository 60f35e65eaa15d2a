import { spawn } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { UserFacingError } from '../../lib/config/errors';
import { status } from '../cluster-state';
import { Command, Options } from '../command';
import { EXIT, Io } from '../io';
import { helperPod } from '../jobs';
import { Kube } from '../kube';
import { parseManifest } from '../manifest';
import { namespaceOf } from '../project';

/** Sums to a hex sha256 of a file, streaming. */
function sha256File(file: fs.PathLike): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = crypto.createHash('sha256');
    fs.createReadStream(file).on('data', (d) => h.update(d)).on('end', () => resolve(h.digest('hex'))).on('error', reject);
  });
}

/** Checks an exported snapshot folder against its own checksum files; returns the files that differ. */
export async function verifySnapshotFolder(dir: string): Promise<string[]> {
  const bad: string[] = [];
  const check = async (listFile: string, root: string) => {
    for (const entry of parseManifest(fs.readFileSync(listFile))) {
      // Buffer paths keep names that are not valid UTF-8.
      const file = Buffer.concat([Buffer.from(root + path.sep), Buffer.from(entry.name.toString('latin1').split('/').join(path.sep), 'latin1')]);
      if (!fs.existsSync(file) || (await sha256File(file)) !== entry.sha256) bad.push(entry.key);
    }
  };
  await check(path.join(dir, 'database.sha256'), dir);
  await check(path.join(dir, 'MANIFEST'), path.join(dir, 'files'));
  return bad;
}

function folderBytes(dir: string): number {
  if (!fs.existsSync(dir)) return 0;
  return fs.readdirSync(dir, { withFileTypes: true }).reduce((n, e) => {
    const p = path.join(dir, e.name);
    return n + (e.isDirectory() ? folderBytes(p) : e.isFile() ? fs.statSync(p).size : 0);
  }, 0);
}

/** Copies a snapshot out of the cluster with kubectl cp, showing progress, then verifies it. */
export async function exportSnapshot(kube: Kube, namespace: string, snapshot: string, expectedBytes: number, target: string, io: Io): Promise<string[]> {
  // The helper pod only holds the backup volume; it ends itself after two hours at most.
  const helper = await helperPod(kube, namespace, 'backup-export', 'export', io);
  fs.mkdirSync(target, { recursive: true });
  const dest = path.join(target, snapshot);
  // kubectl cp reads "C:\…" as a pod name: run it inside the target folder with a relative path.
  const child = spawn('kubectl', ['--context', kube.context, 'cp', '-n', namespace, `${helper.pod}:/backup/snapshots/${snapshot}`, snapshot], { cwd: target, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const timer = setInterval(() => {
    const done = folderBytes(dest);
    io.err(`copied ${(done / 1e6).toFixed(0)} MB${expectedBytes ? ` of about ${(expectedBytes / 1e6).toFixed(0)} MB (${Math.min(100, Math.round((100 * done) / expectedBytes))}%)` : ''}\n`);
  }, 3000);
  const code: number = await new Promise((resolve) => child.on('exit', (c) => resolve(c ?? 1)));
  clearInterval(timer);
  await helper.remove();
  if (code !== 0) throw new UserFacingError(`Copying failed: ${stderr.trim()}`);
  io.err('verifying checksums\n');
  return verifySnapshotFolder(dest);
}

async function commandExport(kube: Kube, o: Options, io: Io): Promise<number> {
  const ns = namespaceOf(o);
  if (!o.to) throw new UserFacingError('export needs --to FOLDER, e.g. --to D:\\homecloud-backups');
  const report = await status(kube, ns, { lanAddresses: [] }, io);
  const snapshot = o.snapshot ?? report.backup.last?.snapshot;
  if (!snapshot) throw new UserFacingError('No snapshot known yet: run `npm run backup` first, or name one with --snapshot.');
  const expected = (report.backup.last?.databaseBytes ?? 0) + (report.backup.last?.filesKiB ?? 0) * 1024;
  const bad = await exportSnapshot(kube, ns, snapshot, expected, path.resolve(o.to), io);
  if (bad.length) {
    io.out(`Copied ${snapshot}, but ${bad.length} file(s) do not match their checksums, e.g. ${bad[0]}. Export again.\n`);
    return EXIT.UNHEALTHY;
  }
  io.out(`Copied and verified ${snapshot} into ${path.join(path.resolve(o.to), snapshot)}\n`);
  return EXIT.OK;
}

export const exportCommand: Command = {
  name: 'export',
  description: 'copy a backup snapshot to a folder on this PC and verify it',
  options: {},
  lock: () => 'export',
  run: commandExport,
};
