import { describe, expect, it } from 'vitest';
import { route } from './routes.ts';

const ASSETS = new Set(['app.js', 'app.css']);
const CR = '/apis/custom.example.com/v1/namespaces/shop/customresources';

describe('route', () => {
  it.each([
    { name: 'the page', method: 'GET', url: '/', want: { kind: 'page' } },
    { name: 'the page by name', method: 'HEAD', url: '/index.html', want: { kind: 'page' } },
    { name: 'an asset', method: 'GET', url: '/assets/app.js', want: { kind: 'asset', name: 'app.js' } },
    { name: 'an unknown asset', method: 'GET', url: '/assets/../../etc/passwd', want: { kind: 'error', code: 404 } },
    { name: 'the session', method: 'GET', url: '/api/session', want: { kind: 'session' } },
    { name: 'the feed', method: 'GET', url: '/api/events', want: { kind: 'events', labelSelector: undefined } },
    { name: 'the feed with a selector', method: 'GET', url: '/api/events?labelSelector=team%3Dpay', want: { kind: 'events', labelSelector: 'team=pay' } },
    { name: 'describe-state', method: 'GET', url: '/api/namespaces/shop/customresources/checkout/state', want: { kind: 'forward', method: 'GET', apiPath: `${CR}/checkout/state`, withBody: false } },
    { name: 'set-state', method: 'PUT', url: '/api/namespaces/shop/customresources/checkout/state', want: { kind: 'forward', method: 'PUT', apiPath: `${CR}/checkout/state`, withBody: true } },
    { name: 'the whole trail', method: 'GET', url: '/api/namespaces/shop/customresources/checkout/history', want: { kind: 'forward', method: 'GET', apiPath: `${CR}/checkout/history`, withBody: false } },
    { name: 'promote', method: 'POST', url: '/api/namespaces/shop/customresources/checkout/promote', want: { kind: 'forward', method: 'POST', apiPath: `${CR}/checkout/promote`, withBody: true } },
    { name: 'approve', method: 'POST', url: '/api/namespaces/shop/customresources/checkout/approve', want: { kind: 'forward', method: 'POST', apiPath: `${CR}/checkout/approve`, withBody: true } },
    { name: 'a dotted name', method: 'GET', url: '/api/namespaces/shop/customresources/a.b-c/state', want: { kind: 'forward', apiPath: `${CR}/a.b-c/state` } },
    { name: 'promote by GET', method: 'GET', url: '/api/namespaces/shop/customresources/checkout/promote', want: { kind: 'error', code: 405, allow: 'POST' } },
    { name: 'DELETE of the state', method: 'DELETE', url: '/api/namespaces/shop/customresources/checkout/state', want: { kind: 'error', code: 405 } },
    { name: 'another subresource', method: 'GET', url: '/api/namespaces/shop/customresources/checkout/status', want: { kind: 'error', code: 404 } },
    { name: 'the object itself', method: 'GET', url: '/api/namespaces/shop/customresources/checkout', want: { kind: 'error', code: 404 } },
    { name: 'an encoded slash in a name', method: 'GET', url: '/api/namespaces/shop/customresources/a%2Fb/state', want: { kind: 'error', code: 404 } },
    { name: 'an upper-case namespace', method: 'GET', url: '/api/namespaces/Shop/customresources/a/state', want: { kind: 'error', code: 404 } },
    { name: 'a bad escape', method: 'GET', url: '/api/namespaces/%zz/customresources/a/state', want: { kind: 'error', code: 404 } },
    { name: 'any other API', method: 'GET', url: '/api/v1/secrets', want: { kind: 'error', code: 404 } },
    { name: 'POST to the page', method: 'POST', url: '/', want: { kind: 'error', code: 405 } },
  ])('$name', ({ method, url, want }) => {
    expect(route(method, url, ASSETS)).toMatchObject(want);
  });
});
