import { nodeRoom, roomiest } from './capacity';
import { Io } from './io';
import { collectionPath } from './kinds';
import { Kube } from './kube';
import { LEASE_NAME } from './maintenance';
import { ClusterState, HostInfo, Report } from './report';
import { buildReport } from './status';
// Kubernetes objects are open-ended JSON, as in the rest of the client.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = any;
/** Reads everything the report needs in a fixed number of list calls (plus logs of crashing containers, and of Nextcloud while it is not ready). */
export async function readState(kube: Kube, namespace: string, io: Io): Promise<ClusterState> {
  const [namespaceObject, deployments, allPods, pvcs, cronJobs, jobs, services, nodes, lease] = await Promise.all([
    kube.get<Obj>(`/api/v1/namespaces/${namespace}`),
    kube.list<Obj>(collectionPath('Deployment', namespace)),
    // Every namespace's pods: the capacity check counts what other programs reserved.
    kube.list<Obj>('/api/v1/pods'),
    kube.list<Obj>(collectionPath('PersistentVolumeClaim', namespace)),
    kube.list<Obj>(collectionPath('CronJob', namespace)),
    kube.list<Obj>(`/apis/batch/v1/namespaces/${namespace}/jobs`),
    kube.list<Obj>(collectionPath('Service', namespace)),
    kube.list<Obj>('/api/v1/nodes'),
    // The maintenance lock: what runs now, or what was cut short (client/maintenance.ts).
    kube.get<Obj>(`/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases/${LEASE_NAME}`),
  ]);
  const pods = allPods.filter((p) => p.metadata.namespace === namespace);
  const logs: Record<string, string[]> = {};
  for (const p of pods) {
    for (const c of p.status?.containerStatuses ?? []) {
      const crashing = c.state?.waiting?.reason === 'CrashLoopBackOff';
      // Nextcloud running but not answering: its entrypoint may be upgrading it (status.ts reads
      // the log's last lines to tell an hour-long upgrade from a hang).
      const installing = c.name === 'nextcloud' && c.state?.running && !c.ready;
      if (!crashing && !installing) continue;
      const lines = crashing ? 8 : 1000; // an upgrade logs a line per migration step
      const r = await kube.request<string>('GET', `/api/v1/namespaces/${namespace}/pods/${p.metadata.name}/log?container=${c.name}&previous=${crashing}&tailLines=${lines}`);
      logs[`${p.metadata.name}/${c.name}`] = r.status === 200 && typeof r.body === 'string'
        ? r.body.trimEnd().split('\n').slice(-lines)
        : [`(its log could not be read: HTTP ${r.status})`];
    }
  }
  const room = roomiest(nodes.map((n) => nodeRoom(n, allPods, namespace)));
  return { now: io.now(), context: kube.context, namespace, namespaceObject, deployments, pods, pvcs, cronJobs, jobs, services, logs, room,
    nodeNames: nodes.map((n) => n.metadata.name), lease };
}

export async function status(kube: Kube, namespace: string, host: HostInfo, io: Io): Promise<Report> {
  return buildReport(await readState(kube, namespace, io), host);
}
