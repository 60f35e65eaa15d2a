/**
 * Facts about the egress point that the client needs too (reading the ledger), kept apart from
 * the construct so the client does not load the Kubernetes API's generated types to know them.
 */
export const EGRESS_POINT = {
  /** The pods' app.kubernetes.io/component label and the Deployment's and Service's name. */
  component: 'egress',
  /** The container that runs Squid. */
  container: 'egress',
  port: 3128,
  /** The ledger's folder in the container (its volume). */
  logDir: '/var/log/squid',
  /** Turned-over logs kept: one a day, so the last 7 days are always there. */
  keepLogs: 8,
  /** The proxy user of Ubuntu's squid package. */
  uid: 13,
} as const;
