import { capacityVerdict, demandOf, nodeRoom, workloadsIn } from '../../client/capacity';
import { synthStack } from '../support/stack';

const MiB = 2 ** 20;
const demand = demandOf(workloadsIn(synthStack().objects));
const node = (memory: string, cpu = '8', ephemeral = '200Gi') => ({
  metadata: { name: 'docker-desktop' }, status: { allocatable: { cpu, memory, 'ephemeral-storage': ephemeral } },
});
const pod = (ns: string, memory: string, cpu = '100m', phase = 'Running') => ({
  metadata: { namespace: ns, name: `${ns}-pod` }, spec: { nodeName: 'docker-desktop', containers: [{ resources: { requests: { memory, cpu } } }] }, status: { phase },
});

describe('what the home cloud asks of the node', () => {
  it('counts the Deployments and the nightly backup, not the on-demand templates', () => {
    // The scheduler reserves requests for all three backup containers at once, and the thumbnail
    // job's while it waits; the offsite container's limit does not add to the others' (it works
    // only after they exited), nor the thumbnail job's, which works at most beside it.
    expect(demand.memoryRequestBytes).toBe(608 * MiB);
    expect(demand.memoryLimitBytes).toBe(3408 * MiB);
    expect(demand.cpuRequestMillis).toBe(295);
  });
  it('counts the emptyDir folders at their size limits', () => {
    expect(demand.scratchBytes).toBeGreaterThan(4 * 1024 * MiB);
  });
  it('counts init containers as the larger of them and the containers', () => {
    const d = demandOf({ deployments: [], cronJobs: [{ spec: { jobTemplate: { spec: { template: { spec: {
      initContainers: [{ resources: { requests: { memory: '300Mi' } } }],
      containers: [{ resources: { requests: { memory: '100Mi' } } }, { resources: { requests: { memory: '100Mi' } } }],
    } } } } } }] });
    expect(d.memoryRequestBytes).toBe(300 * MiB);
  });
});

describe('room on the node', () => {
  it('reads allocatable quantities in any unit and subtracts what other programs reserved', () => {
    const room = nodeRoom(node('4038140Ki', '4'), [pod('kube-system', '170Mi', '650m'), pod('homecloud', '1Gi'), pod('old', '1Gi', '1', 'Succeeded')], 'homecloud');
    expect(room).toEqual({ node: 'docker-desktop', cpuMillis: 4000, memoryBytes: 4038140 * 1024, ephemeralBytes: 200 * 2 ** 30, othersCpuMillis: 650, othersMemoryBytes: 170 * MiB });
  });
});

describe('the verdict', () => {
  const verdict = (memory: string, others: object[] = [], cpu = '8', ephemeral = '200Gi') => capacityVerdict(demand, nodeRoom(node(memory, cpu, ephemeral), others as never, 'homecloud'));

  it('fits a modest desktop', () => expect(verdict('16Gi')).toEqual({ level: 'fits', findings: [] }));

  it('warns, with the .wslconfig fix, when the limits do not fit', () => {
    const v = verdict('3Gi');
    expect(v.level).toBe('tight');
    expect(v.findings[0]).toMatch(/^Memory is tight: the home cloud may use up to 3408 MiB when busy, but Kubernetes has 3072 MiB left.*\.wslconfig.*memory=8GB.*wsl --shutdown/);
  });

  it('refuses when the requests do not fit, counting other programs', () => {
    const v = verdict('1Gi', [pod('kube-system', '600Mi')]);
    expect(v.level).toBe('too-small');
    expect(v.findings).toEqual([expect.stringMatching(/has 424 MiB of memory left for new programs, but the home cloud needs 608 MiB reserved/)]);
  });

  it('refuses when the processors are all reserved', () => {
    expect(verdict('16Gi', [pod('kube-system', '1Mi', '1900m')], '2').findings[0]).toMatch(/has 0\.1 CPU left, but the home cloud needs 0\.29 CPU/);
  });

  it('warns when the temporary folders could outgrow the disk', () => {
    expect(verdict('16Gi', [], '8', '2Gi').findings[0]).toMatch(/Temporary space is tight/);
  });
});
