/**
 * Where the nightly off-disk copy goes: a folder on the PC's own file system, outside Docker
 * Desktop's virtual disk. On a Windows PC that is a path like C:\Users\Anna\homecloud-backups;
 * Docker Desktop (WSL 2, kubeadm cluster) shows drive C: to containers at
 * /run/desktop/mnt/host/c. Pure: no I/O.
 */
const WINDOWS_PATH = /^([A-Za-z]):\\((?:[^\\/:*?"<>|\r\n]+\\?)*)$/;

/** Docker Desktop's mount of the Windows drives inside its virtual machine. */
export const WINDOWS_DRIVES_IN_VM = '/run/desktop/mnt/host';

/** Why a folder cannot hold the copy, or undefined when it can. */
export function offsiteFolderProblem(folder: string): string | undefined {
  if (folder.startsWith('\\\\')) {
    return 'a network share (\\\\server\\share) cannot be reached from the cluster; use a folder on a drive of this PC, e.g. "D:\\homecloud-backups"';
  }
  if (WINDOWS_PATH.test(folder)) return undefined;
  if (folder.startsWith('/') && !folder.includes('\0') && folder !== '/') return undefined;
  return 'use a full path to a folder, e.g. "D:\\homecloud-backups" (a USB disk keeps its drive letter only if you fix it in Disk Management)';
}

/** The folder as the cluster's node sees it (hostPath). POSIX paths (Linux, tests) stay as they are. */
export function hostPathOf(folder: string): string {
  const m = WINDOWS_PATH.exec(folder);
  if (!m) return folder.replace(/\/+$/, '');
  const rest = m[2].replace(/\\+$/, '').split('\\').filter(Boolean).join('/');
  return `${WINDOWS_DRIVES_IN_VM}/${m[1].toLowerCase()}${rest ? `/${rest}` : ''}`;
}

/** The default: a folder in the user's profile (on Windows, C:\Users\<name>\homecloud-backups). */
export function defaultOffsiteFolder(homeDir: string): string {
  const sep = WINDOWS_PATH.test(homeDir) || /^[A-Za-z]:\\/.test(homeDir) ? '\\' : '/';
  return `${homeDir.replace(/[\\/]+$/, '')}${sep}homecloud-backups`;
}
