import { Construct } from 'constructs';
import * as k8s from '../../imports/k8s';
import { readScript } from '../config/container-scripts';
import { HomeCa, serverNames } from './home-ca';
import { PULL_POLICY, nonRoot, resourceRequirements } from '../config/pod-security';
import { ResolvedSettings } from '../config/settings';
import { welcomeFiles } from './welcome-page';

export interface ServerCertificateProps {
  readonly settings: ResolvedSettings;
  /**
   * The home CA (lib/ca-store.ts): its key goes into a Secret only the issuing containers (and the
   * nightly backup's offsite container, into the encrypted repository) mount.
   */
  readonly ca: HomeCa;
  /** The PC's name, shown on the welcome page. */
  readonly label: string;
  readonly labels: Record<string, string>;
}

/**
 * HTTPS for the home cloud: the home CA as a Secret, the welcome page (with the CA for phones) as
 * a ConfigMap, and the two containers that keep nginx's certificate current inside the Nextcloud
 * pod: an init container that issues it before nginx starts, and a small `certificates`
 * container that checks it every 6 hours and renews it 45 days before it expires.
 *
 * Why not cert-manager, the ecosystem's standard: it runs three Deployments (controller, webhook,
 * cainjector; tens of MiB each, more images to pull and keep updated) and CRDs that outlive
 * `kubectl delete namespace`. This needs one signature every couple of months: a shell that
 * sleeps (≈ 1 MiB) and PHP from the Nextcloud image while it signs (≈ 20 MiB peak, 50 ms).
 * The certificate lives in a pod-local emptyDir: a new pod issues a fresh one, so a changed
 * name list (which changes the pod) is re-issued on the next deploy, and nothing in the cluster
 * needs write access to the API.
 */
export class ServerCertificate extends Construct {
  /** Where nginx finds its key and certificate (one file: replaced whole on renewal). */
  public static readonly TLS_DIR = '/run/homecloud/tls';
  public static readonly TLS_FILE = `${ServerCertificate.TLS_DIR}/tls.pem`;
  /** Where nginx finds the welcome page, and Nextcloud the CA's public certificate. */
  public static readonly WELCOME_DIR = '/run/homecloud/welcome';
  /** nginx's user: the certificate files are written as it, owner-only. */
  public static readonly NGINX_UID = 101;
  /** Checked this often; renewed when fewer than RENEW_DAYS of VALID_DAYS remain. */
  public static readonly CHECK_SECONDS = 6 * 3600;
  public static readonly VALID_DAYS = 90;
  public static readonly RENEW_DAYS = 45;

  public readonly caSecret: k8s.KubeSecret;
  public readonly welcome: k8s.KubeConfigMap;
  public readonly scripts: k8s.KubeConfigMap;
  /** Issues the certificate before nginx starts. */
  public readonly initContainer: k8s.Container;
  /** Renews it while the pod runs. */
  public readonly renewer: k8s.Container;
  /** The pod volumes these containers and nginx use. */
  public readonly volumes: k8s.Volume[];
  /** What nginx mounts: the certificate (read-only) and the welcome page. */
  public readonly nginxMounts: k8s.VolumeMount[];
  /** What php-fpm mounts: the CA's public certificate, to trust its own address (setup checks). */
  public readonly caCertMount: k8s.VolumeMount;
  public readonly caCertPath = `${ServerCertificate.WELCOME_DIR}/homecloud-ca.crt`;
  /** The home CA's public certificate, PEM. */
  public readonly caCertPem: string;

  constructor(scope: Construct, id: string, props: ServerCertificateProps) {
    super(scope, id);
    const s = props.settings;
    this.caCertPem = props.ca.certPem;
    this.caSecret = new k8s.KubeSecret(this, 'ca', {
      metadata: { name: 'homecloud-ca', labels: props.labels },
      type: 'Opaque',
      data: { 'ca.crt': b64(props.ca.certPem), 'ca.key': b64(props.ca.keyPem) },
    });
    this.welcome = new k8s.KubeConfigMap(this, 'welcome', {
      metadata: { name: 'nextcloud-welcome', labels: props.labels },
      data: welcomeFiles({ caPem: props.ca.certPem, label: props.label, httpsPort: s.httpsPort, httpPort: s.httpPort, trustedDomains: s.trustedDomains }),
    });
    this.scripts = new k8s.KubeConfigMap(this, 'scripts', {
      metadata: { name: 'homecloud-certificates', labels: props.labels },
      data: {
        'issue-certificate.php': readScript('https/issue-certificate.php'),
        'certificate-loop.sh': readScript('https/certificate-loop.sh'),
      },
    });

    const names = serverNames(s.trustedDomains);
    const env: k8s.EnvVar[] = [
      { name: 'HOMECLOUD_TLS_DNS', value: names.dns.join(' ') },
      { name: 'HOMECLOUD_TLS_IP', value: names.ip.join(' ') },
      { name: 'CA_DIR', value: '/homecloud-ca' },
      { name: 'TLS_DIR', value: ServerCertificate.TLS_DIR },
      { name: 'VALID_DAYS', value: String(ServerCertificate.VALID_DAYS) },
      { name: 'RENEW_DAYS', value: String(ServerCertificate.RENEW_DAYS) },
      { name: 'CHECK_SECONDS', value: String(ServerCertificate.CHECK_SECONDS) },
    ];
    const mounts: k8s.VolumeMount[] = [
      { name: 'homecloud-ca', mountPath: '/homecloud-ca', readOnly: true },
      { name: 'tls', mountPath: ServerCertificate.TLS_DIR },
      { name: 'certificate-scripts', mountPath: '/homecloud', readOnly: true },
      // PHP's OpenSSL writes its config to a temporary file.
      { name: 'certificates-tmp', mountPath: '/tmp' },
    ];
    const base = {
      image: s.images.nextcloud,
      imagePullPolicy: PULL_POLICY,
      env,
      volumeMounts: mounts,
      resources: resourceRequirements(s.resources.certificates),
      securityContext: nonRoot(ServerCertificate.NGINX_UID, ServerCertificate.NGINX_UID),
    };
    // Any command but php-fpm skips the image's install logic. `php -n`: no php.ini, so none of the
    // image's shared extensions (imagick, apcu, redis…) is loaded into 32 MiB; OpenSSL is built into
    // the official PHP binary. (Measured on Debian's PHP: 17 MiB with -n, 20 MiB without.)
    this.initContainer = { name: 'certificate', ...base, command: ['php', '-n', '/homecloud/issue-certificate.php'] };
    this.renewer = { name: 'certificates', ...base, command: ['/bin/sh', '/homecloud/certificate-loop.sh'] };
    this.volumes = [
      // Only the two issuing containers mount the CA's key.
      { name: 'homecloud-ca', secret: { secretName: this.caSecret.name, defaultMode: 0o444 } },
      { name: 'tls', emptyDir: { medium: 'Memory', sizeLimit: k8s.Quantity.fromString('1Mi') } },
      { name: 'welcome', configMap: { name: this.welcome.name } },
      { name: 'certificate-scripts', configMap: { name: this.scripts.name } },
      { name: 'certificates-tmp', emptyDir: { medium: 'Memory', sizeLimit: k8s.Quantity.fromString('16Mi') } },
    ];
    this.nginxMounts = [
      { name: 'tls', mountPath: ServerCertificate.TLS_DIR, readOnly: true },
      { name: 'welcome', mountPath: ServerCertificate.WELCOME_DIR, readOnly: true },
    ];
    this.caCertMount = { name: 'welcome', mountPath: ServerCertificate.WELCOME_DIR, readOnly: true };
  }
}

function b64(s: string): string {
  return Buffer.from(s).toString('base64');
}
