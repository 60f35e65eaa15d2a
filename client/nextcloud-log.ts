// What the Nextcloud image's entrypoint logs, read for the status report. Pure.

/**
 * The version the image's entrypoint is upgrading to, when its log's last lines show an upgrade
 * begun ("Initializing nextcloud 34.0.1.1 ...", then "Upgrading nextcloud from 33.0.9.1 ...")
 * and not finished ("Initializing finished"). A first install logs the first line only.
 */
export function upgradeInProgress(logLines: string[]): string | undefined {
  let initializing: string | undefined;
  let upgrading: string | undefined;
  for (const line of logLines) {
    const begun = /^Initializing nextcloud (\d+\.\d+\.\d+)/.exec(line);
    if (begun) [initializing, upgrading] = [begun[1], undefined];
    else if (/^Upgrading nextcloud from /.test(line)) upgrading = initializing;
    else if (/^Initializing finished/.test(line)) [initializing, upgrading] = [undefined, undefined];
  }
  return upgrading;
}
