import { Construct } from 'constructs';
import * as k8s from '../../imports/k8s';
import { Backup } from '../backup/backup';
import { readScript } from '../config/container-scripts';
import { Component, WAITS_FOR_ANNOTATION, componentLabels, componentSelector } from '../config/labels';
import { POD_DEFAULTS, PULL_POLICY, RUNTIME_DEFAULT_SECCOMP, nonRoot, resourceRequirements } from '../config/pod-security';
import { PREVIEW_PHP_MEMORY_MIB, ResolvedSettings } from '../config/settings';
import { Nextcloud } from '../nextcloud/nextcloud';

export interface PreviewsProps {
  readonly settings: ResolvedSettings;
  /** Its web root volume (photos, previews, occ) and PHP settings. */
  readonly nextcloud: Nextcloud;
  /** Its volume holds the backup's lock, which the job waits for. */
  readonly backup: Backup;
}

/**
 * The nightly thumbnail job: a CronJob that makes photo previews ahead of time after the
 * backup (lib/photos/scripts/previews.sh), at most one core and a time limit, and says how many
 * photos still wait (its termination message, which `npm run status` shows).
 *
 * Its own CronJob rather than a step of the backup's: the backup's deadline is for the backup,
 * a family's first night of thumbnails can take hours, and a missed night is simply skipped
 * (photos still get previews when someone opens them). It mounts the backup volume read-only,
 * only to see the backup's lock and wait for it.
 */
export class Previews extends Construct {
  public static readonly COMPONENT: Component = { name: 'nextcloud-previews', component: 'previews' };
  public readonly cronJob?: k8s.KubeCronJob;
  public readonly selector: Record<string, string>;

  constructor(scope: Construct, id: string, props: PreviewsProps) {
    super(scope, id);
    const s = props.settings;
    this.selector = componentSelector(s.namespace, Previews.COMPONENT);
    if (!s.previews.makeAhead) return;
    const labels = componentLabels(s.namespace, Previews.COMPONENT);
    const scripts = new k8s.KubeConfigMap(this, 'scripts', {
      metadata: { name: 'previews-scripts', labels },
      data: Object.fromEntries(['previews.sh', 'previews-waiting.php'].map((f) => [f, readScript(`photos/${f}`)])),
    });
    const uid = Nextcloud.WWW_DATA_UID;
    // A stop at the deadline leaves a few seconds for the summary before Kubernetes ends the pod.
    const deadline = s.previews.timeLimitSeconds + 300;
    this.cronJob = new k8s.KubeCronJob(this, 'cronjob', {
      metadata: { name: 'previews', labels },
      spec: {
        schedule: s.previews.schedule,
        timeZone: s.timeZone,
        // A night missed while the PC was off is skipped, not made up during the family's day.
        startingDeadlineSeconds: 3600,
        concurrencyPolicy: 'Forbid',
        successfulJobsHistoryLimit: 1,
        failedJobsHistoryLimit: 1,
        jobTemplate: {
          metadata: { labels },
          spec: {
            backoffLimit: 0,
            activeDeadlineSeconds: deadline,
            template: {
              // Works only once the backup's files and database steps have ended (its lock):
              // at most beside the backup's last step, the off-disk copy (client/capacity.ts).
              metadata: { labels, annotations: { [WAITS_FOR_ANNOTATION]: 'backup' } },
              spec: {
                ...POD_DEFAULTS,
                restartPolicy: 'Never',
                securityContext: { seccompProfile: RUNTIME_DEFAULT_SECCOMP, fsGroup: uid },
                containers: [{
                  name: 'previews',
                  image: s.images.nextcloud,
                  imagePullPolicy: PULL_POLICY,
                  // Any command but php-fpm skips the image's install/upgrade logic.
                  command: ['/bin/sh', '/homecloud/previews.sh'],
                  env: [
                    ...props.nextcloud.phpEnv.filter((e) => e.name !== 'PHP_MEMORY_LIMIT'),
                    { name: 'PHP_MEMORY_LIMIT', value: `${PREVIEW_PHP_MEMORY_MIB}M` },
                    { name: 'NEXTCLOUD_WEBROOT', value: Nextcloud.WEB_ROOT },
                    { name: 'BACKUP_DIR', value: Backup.MOUNT },
                    { name: 'TIME_LIMIT_SECONDS', value: String(s.previews.timeLimitSeconds) },
                    // ImageMagick (HEIC photos) allocates outside PHP's memory_limit: a 24-megapixel
                    // iPhone photo peaked at 430 MB, over this container's limit. Past these sizes it
                    // keeps the picture in /tmp instead (197 MB peak, 20% faster: measured on the
                    // host's ImageMagick 6.9 with bench/previews/make-previews.php).
                    { name: 'MAGICK_MEMORY_LIMIT', value: '64MiB' },
                    { name: 'MAGICK_MAP_LIMIT', value: '128MiB' },
                    { name: 'MAGICK_TEMPORARY_PATH', value: '/tmp' },
                  ],
                  volumeMounts: [
                    { name: 'html', mountPath: Nextcloud.WEB_ROOT },
                    { name: 'backup', mountPath: Backup.MOUNT, readOnly: true },
                    { name: 'scripts', mountPath: '/homecloud', readOnly: true },
                    { name: 'tmp', mountPath: '/tmp' },
                  ],
                  resources: resourceRequirements(s.resources.previews),
                  securityContext: nonRoot(uid, uid),
                }],
                volumes: [
                  { name: 'html', persistentVolumeClaim: { claimName: props.nextcloud.volumeClaim.name } },
                  { name: 'backup', persistentVolumeClaim: { claimName: props.backup.volumeClaim.name, readOnly: true } },
                  { name: 'scripts', configMap: { name: scripts.name, defaultMode: 0o555 } },
                  // Imagick's pixels of a big photo (above): 48 megapixels take 390 MB.
                  { name: 'tmp', emptyDir: { sizeLimit: k8s.Quantity.fromString('1Gi') } },
                ],
              },
            },
          },
        },
      },
    });
  }
}
