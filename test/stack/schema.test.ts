import { kubernetesValidator } from '../support/schema';
import { synthStack } from '../support/stack';

const stack = synthStack();

describe('every synthesized object is valid Kubernetes 1.34', () => {
  const validate = kubernetesValidator('1.34.0');

  it.each(stack.objects.map((o) => [`${o.kind}/${o.metadata.name}`, o]))('%s', (_name, o) => {
    expect(validate(o)).toEqual([]);
  });

  it('catches an unknown field (the validator is not a no-op)', () => {
    const broken = JSON.parse(JSON.stringify(stack.get('Deployment', 'nextcloud')));
    broken.spec.template.spec.containers[0].imagePullPolice = 'Always';
    broken.spec.replicas = 'one';
    const errors = validate(broken);
    expect(errors.join('\n')).toMatch(/imagePullPolice/);
    expect(errors.join('\n')).toMatch(/replicas must be integer/);
  });
});

describe('and valid for 1.27, the oldest API the imports target', () => {
  const validate = kubernetesValidator('1.27.0');
  it.each(stack.objects.map((o) => [`${o.kind}/${o.metadata.name}`, o]))('%s', (_name, o) => {
    expect(validate(o)).toEqual([]);
  });
});
