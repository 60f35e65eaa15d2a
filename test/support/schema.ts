import * as fs from 'fs';
import * as path from 'path';
import Ajv, { ValidateFunction } from 'ajv';
import { K8sObject } from './stack';

/**
 * Validates objects offline against a Kubernetes OpenAPI schema kept in schemas/ (the
 * definitions `cdk8s import` uses). Objects are closed (no unknown fields), as the API
 * server's strict field validation would have them, except where the schema says otherwise.
 */
export function kubernetesValidator(version: string): (o: K8sObject) => string[] {
  const file = path.join(__dirname, '..', '..', 'schemas', `k8s-${version}`, '_definitions.json');
  const { definitions } = JSON.parse(fs.readFileSync(file, 'utf8'));
  const byKind = new Map<string, string>();
  for (const [name, def] of Object.entries<K8sObject>(definitions)) {
    for (const gvk of def['x-kubernetes-group-version-kind'] ?? []) {
      byKind.set(`${gvk.group ? `${gvk.group}/` : ''}${gvk.version}/${gvk.kind}`, name);
    }
    if (def.properties && def.additionalProperties === undefined && !def['x-kubernetes-preserve-unknown-fields']) {
      def.additionalProperties = false;
    }
  }
  const ajv = new Ajv({ strict: false, allErrors: true });
  ajv.addSchema({ $id: 'k8s', definitions });
  const validators = new Map<string, ValidateFunction>();
  return (o) => {
    const key = `${o.apiVersion}/${o.kind}`;
    const def = byKind.get(key);
    if (!def) return [`${key} is not a kind in Kubernetes ${version}`];
    let validate = validators.get(def);
    if (!validate) {
      validate = ajv.getSchema(`k8s#/definitions/${def}`)!;
      validators.set(def, validate);
    }
    return validate(o) ? [] : (validate.errors ?? []).map((e) => `${o.kind}/${o.metadata?.name}${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`);
  };
}
