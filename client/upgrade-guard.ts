import { imageMajor } from '../lib/config/checks';

export interface RunningVersions {
  /** Image of the running Nextcloud Deployment, if any. */
  readonly nextcloudImage?: string;
  readonly postgresImage?: string;
  /** Whether the database volume exists (so its data belongs to the running major). */
  readonly databaseVolumeExists: boolean;
}

export interface DesiredVersions {
  readonly nextcloudImage: string;
  readonly postgresImage: string;
}

/**
 * Why a deploy must not change these images, in plain words with the safe path; empty when
 * it may. Nextcloud moves one major at a time and never back; PostgreSQL cannot open data
 * written by another major.
 */
export function upgradeProblems(running: RunningVersions, desired: DesiredVersions): string[] {
  const problems: string[] = [];
  const from = running.nextcloudImage ? imageMajor(running.nextcloudImage) : undefined;
  const to = imageMajor(desired.nextcloudImage);
  if (from !== undefined && to !== undefined) {
    if (to < from) {
      problems.push(`Nextcloud ${to} is older than the running Nextcloud ${from}, and Nextcloud cannot go back a version. `
        + `Keep images.nextcloud at ${from} (or restore a backup made by ${to}).`);
    } else if (to > from + 1) {
      problems.push(`Nextcloud can only be upgraded one major version at a time: ${from} → ${from + 1} first, then on to ${to}. `
        + `Set images.nextcloud back to ${from} in main.ts and run \`npm run upgrade -- --major ${to}\`: it takes each step in turn, with a backup before each.`);
    }
  }
  const pgFrom = running.postgresImage ? imageMajor(running.postgresImage) : undefined;
  const pgTo = imageMajor(desired.postgresImage);
  if (running.databaseVolumeExists && pgFrom !== undefined && pgTo !== undefined && pgFrom !== pgTo) {
    problems.push(`The database holds PostgreSQL ${pgFrom} data, which PostgreSQL ${pgTo} cannot open. `
      + (pgTo < pgFrom
        ? `Keep images.postgres at ${pgFrom}: a database cannot go back a major (\`npm run rollback\` undoes the last move while its data is kept).`
        : pgFrom >= 18
          ? `Keep images.postgres at ${pgFrom} in main.ts and run \`npm run upgrade -- --postgres ${pgTo}\`: it copies the data into ${pgTo}, checks every row, `
            + `and keeps the ${pgFrom} data for 14 days.`
          : `Keep images.postgres at ${pgFrom}. PostgreSQL ${pgFrom} keeps its data where a second major cannot sit beside it, so this move is by hand: `
            + 'run a backup, stop Nextcloud, delete the database (kubectl delete deployment/database pvc/database-data -n <namespace>; the backup volume stays), '
            + `deploy with ${pgTo}, then run the restore. The README's "PostgreSQL older than 18" has the commands.`));
  }
  return problems;
}
