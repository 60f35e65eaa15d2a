/**
 * The app.kubernetes.io labels. Selectors use only `instance` and `component`, which never
 * change, because a Deployment's selector is immutable once applied.
 */
export const PART_OF = 'homecloud';
export const MANAGED_BY = 'homecloud';

/** Labels the chart puts on every object it synthesizes (the client prunes by these). */
export function commonLabels(instance: string): Record<string, string> {
  return {
    'app.kubernetes.io/part-of': PART_OF,
    'app.kubernetes.io/managed-by': MANAGED_BY,
    'app.kubernetes.io/instance': instance,
  };
}

export interface Component {
  /** What runs, e.g. "nextcloud", "postgresql". */
  readonly name: string;
  /** Its role in the stack, e.g. "web", "database"; unique per instance. */
  readonly component: string;
}

/** Labels for a component's objects and its pod template. */
export function componentLabels(instance: string, c: Component): Record<string, string> {
  return { ...commonLabels(instance), 'app.kubernetes.io/name': c.name, 'app.kubernetes.io/component': c.component };
}

/** The stable selector for a component's pods. */
export function componentSelector(instance: string, c: Component): Record<string, string> {
  return { 'app.kubernetes.io/instance': instance, 'app.kubernetes.io/component': c.component };
}

/**
 * A pod template annotation naming containers that start work only once the others have exited
 * (the nightly job's offsite container): their memory use follows the others', it does not add
 * to it. The client's capacity check and the budget test read it.
 */
export const RUNS_LAST_ANNOTATION = 'homecloud.io/runs-last';

/**
 * A pod template annotation naming the CronJob whose work this one waits for (the thumbnail job
 * waits for the backup's lock): it works only in that job's last phase, beside its runs-last
 * containers, so the capacity check counts its memory there, not on top of the whole job's.
 */
export const WAITS_FOR_ANNOTATION = 'homecloud.io/waits-for';

/**
 * On the nightly backup's CronJob: the PC's nightly security update, "HH:MM" when it is on,
 * "off" when main.ts turned it off. It runs on the PC (client/auto-update.ts); status reads
 * the switch here, as deployed, without loading main.ts.
 */
export const AUTOMATIC_UPDATES_ANNOTATION = 'homecloud.io/automatic-updates';
