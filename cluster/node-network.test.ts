import { describe, expect, it } from 'vitest';
import { cidrsOverlap, NODE_NETWORK, nodeChain, splitRule } from './node-network.ts';

describe('node network', () => {
  it('tells overlapping IPv4 ranges', () => {
    expect(cidrsOverlap('10.244.0.0/24', '10.244.0.128/25')).toBe(true);
    expect(cidrsOverlap('10.0.0.0/8', NODE_NETWORK.serviceCidr)).toBe(true);
    expect(cidrsOverlap('10.244.1.0/24', NODE_NETWORK.podCidr)).toBe(false);
    expect(cidrsOverlap('192.0.2.0/24', NODE_NETWORK.podCidr)).toBe(false);
    expect(cidrsOverlap('0.0.0.0/0', '192.0.2.7')).toBe(true);
    expect(cidrsOverlap('10.96.0.1', NODE_NETWORK.serviceCidr)).toBe(true);
  });

  it('keeps the gateway and the kubernetes Service address inside their ranges', () => {
    expect(cidrsOverlap(`${NODE_NETWORK.gateway}/32`, NODE_NETWORK.podCidr)).toBe(true);
    expect(cidrsOverlap(`${NODE_NETWORK.apiserverServiceIp}/32`, NODE_NETWORK.serviceCidr)).toBe(true);
    expect(cidrsOverlap(NODE_NETWORK.podCidr, NODE_NETWORK.serviceCidr)).toBe(false);
  });

  it('splits iptables-save rules as iptables reads them back', () => {
    expect(splitRule('-A INPUT -m comment --comment "kubernetes health check service ports" -j KUBE-NODEPORTS')).toEqual([
      '-A', 'INPUT', '-m', 'comment', '--comment', 'kubernetes health check service ports', '-j', 'KUBE-NODEPORTS',
    ]);
    expect(splitRule('-A OUTPUT -m comment --comment "say \\"hi\\"" -j KUBE-FIREWALL')).toContain('say "hi"');
  });

  it('claims only kubelet\'s, kube-proxy\'s and its own chains', () => {
    expect(['KUBE-FIREWALL', 'KUBE-SERVICES', 'KUBE-KUBELET-CANARY', 'KUBECTL-CUSTOM-NODE-IN'].every(nodeChain)).toBe(true);
    expect(['INPUT', 'DOCKER', 'CNI-FORWARD', 'KUBEX', 'LIBVIRT_INP'].some(nodeChain)).toBe(false);
  });
});
