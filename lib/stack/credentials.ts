import { Construct } from 'constructs';
import * as k8s from '../../imports/k8s';
import { Credentials } from '../config/secrets-store';

export interface HomecloudCredentialsProps {
  /** The passwords from the local credentials file (generated on the first synth). */
  readonly credentials: Credentials;
  /** Login name of the Nextcloud administrator. */
  readonly adminUser: string;
  readonly labels: Record<string, string>;
}

/** Keys of the credentials Secret; the client reads `admin-user` and `admin-password`. */
export const CREDENTIAL_KEYS = {
  postgresPassword: 'postgres-password',
  adminUser: 'admin-user',
  adminPassword: 'admin-password',
  cachePassword: 'cache-password',
  /** The cache's password as a config line, so it never appears on a command line. */
  cacheAuthConf: 'cache-auth.conf',
  /** The backup repository's key (restic's password); the client shows it as the recovery key. */
  backupKey: 'backup-key',
} as const;

export type CredentialKey = (typeof CREDENTIAL_KEYS)[keyof typeof CREDENTIAL_KEYS];

/** One Secret with every password the stack uses; containers reference keys, never values. */
export class HomecloudCredentials extends Construct {
  public static readonly NAME = 'homecloud-credentials';
  public readonly secret: k8s.KubeSecret;

  constructor(scope: Construct, id: string, props: HomecloudCredentialsProps) {
    super(scope, id);
    const c = props.credentials;
    const values: Record<CredentialKey, string> = {
      [CREDENTIAL_KEYS.postgresPassword]: c.postgresPassword,
      [CREDENTIAL_KEYS.adminUser]: props.adminUser,
      [CREDENTIAL_KEYS.adminPassword]: c.adminPassword,
      [CREDENTIAL_KEYS.cachePassword]: c.cachePassword,
      [CREDENTIAL_KEYS.cacheAuthConf]: `requirepass ${c.cachePassword}\n`,
      [CREDENTIAL_KEYS.backupKey]: c.backupKey,
    };
    // `data`, not `stringData`: the server stores only `data`, so a repeated apply
    // (client- or server-side) compares like with like and changes nothing.
    this.secret = new k8s.KubeSecret(this, 'secret', {
      metadata: { name: HomecloudCredentials.NAME, labels: props.labels },
      type: 'Opaque',
      data: Object.fromEntries(Object.entries(values).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
    });
  }

  /** An environment variable read from one key of the Secret. */
  public env(name: string, key: CredentialKey): k8s.EnvVar {
    return { name, valueFrom: { secretKeyRef: { name: this.secret.name, key } } };
  }
}
