// The webhook's route in the whole filter chain, in-process: kube-apiserver's
// admission calls it without a client certificate; a request through the
// aggregated API (the front proxy's identity headers) never reaches it.
import { describe, expect, it } from 'vitest';
import { useInProcess } from '../testing/in-process-server.ts';

const review = JSON.stringify({
  apiVersion: 'admission.k8s.io/v1',
  kind: 'AdmissionReview',
  request: { uid: 'r1', operation: 'CREATE', namespace: 'shop', name: 'x', userInfo: { username: 'eve' }, object: { apiVersion: 'example.com/v1', kind: 'CustomResource', metadata: { name: 'x', namespace: 'shop' }, spec: { name: 'x', states: ['dev'] } } },
});

describe('POST /admission/customresources', () => {
  const s = useInProcess();

  it('answers kube-apiserver (no client certificate, ?timeout as it sends it) with an AdmissionReview', async () => {
    const r = await s().request({ method: 'POST', path: '/admission/customresources?timeout=10s', as: 'none', headers: { 'Content-Type': 'application/json' }, body: review });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toEqual({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: 'r1', allowed: true } });
  });

  it('refuses a call that came through the aggregated API (identity headers)', async () => {
    const r = await s().request({ method: 'POST', path: '/admission/customresources', headers: { 'Content-Type': 'application/json', 'X-Remote-User': 'bob' }, body: review });
    expect(r.status).toBe(403);
  });

  it('a crafted path under the API that resolves to it is a 400, never an admission answer', async () => {
    const r = await s().request({ method: 'POST', path: '/apis/custom.example.com/v1/namespaces/shop/customresources/x/approve/../../../../../../../../admission/customresources', headers: { 'Content-Type': 'application/json', 'X-Remote-User': 'bob' }, body: review });
    expect(r.status).toBe(400);
    expect(r.body).not.toContain('AdmissionReview');
  });

  it('a body that is not a v1 AdmissionReview is a 400 that says so', async () => {
    const r = await s().request({ method: 'POST', path: '/admission/customresources', as: 'none', headers: { 'Content-Type': 'application/json' }, body: '{"kind":"AdmissionReview","apiVersion":"admission.k8s.io/v1beta1"}' });
    expect(r.status).toBe(400);
    expect(r.body).toMatch(/admissionReviewVersions: \[v1\]/);
  });
});
