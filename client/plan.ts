import { KINDS, ObjectRef, describe, kindInfo } from './kinds';

/** The desired objects in the order a deploy applies them (stable within a kind). */
export function applyOrder<T extends ObjectRef>(objects: T[]): T[] {
  return objects.map((o, i) => ({ o, i }))
    .sort((a, b) => kindInfo(a.o.kind).order - kindInfo(b.o.kind).order || a.i - b.i)
    .map(({ o }) => o);
}

/** The labels every object homecloud creates carries (lib/config/labels.ts commonLabels). */
export function ownedBy(instance: string): Record<string, string> {
  return {
    'app.kubernetes.io/part-of': 'homecloud',
    'app.kubernetes.io/managed-by': 'homecloud',
    'app.kubernetes.io/instance': instance,
  };
}

/** A label selector string for the API (`labelSelector=`). */
export function selector(labels: Record<string, string>): string {
  return Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(',');
}

/**
 * Objects to delete: live objects carrying all of homecloud's ownership labels for this
 * instance that the synthesized set no longer contains. Anything without those labels
 * (created by hand, by Kubernetes itself, or by another tool) is never selected, nor are
 * objects Kubernetes created from ours (Jobs, ReplicaSets, Pods are not listed kinds).
 */
export function pruneCandidates(live: ObjectRef[], desired: ObjectRef[], instance: string): ObjectRef[] {
  const wanted = new Set(desired.map(describe));
  const labels = ownedBy(instance);
  return live.filter((o) => o.kind !== 'Namespace' && KINDS[o.kind]
    && Object.entries(labels).every(([k, v]) => o.metadata.labels?.[k] === v)
    && !wanted.has(describe(o)));
}

/** Kinds to list when looking for objects to prune (everything namespaced we manage). */
export const PRUNABLE_KINDS = Object.entries(KINDS).filter(([, k]) => k.namespaced).map(([kind]) => kind);
