import { describe, expect, it } from 'vitest';
import { apiserverContinue } from './crd-consistent-read.ts';

const decode = (t: string) => JSON.parse(Buffer.from(t, 'base64url').toString('utf8')) as { v: string; rv: number; start: string };

describe('apiserverContinue', () => {
  it('starts after the name within a namespace, and after namespace/name across namespaces, as kube-apiserver\'s etcd keys do', () => {
    expect(decode(apiserverContinue('shop', 'shop/cart', 42))).toEqual({ v: 'meta.k8s.io/v1', rv: 42, start: 'cart\u0000' });
    expect(decode(apiserverContinue(undefined, 'shop/cart', 42))).toEqual({ v: 'meta.k8s.io/v1', rv: 42, start: 'shop/cart\u0000' });
  });

  it('is unpadded base64url, as kube-apiserver decodes it', () => {
    expect(apiserverContinue('a', 'a/b', 1)).toMatch(/^[A-Za-z0-9_-]+$/);
  });
});
