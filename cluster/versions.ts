// The control plane that tests and the demo run. Kubernetes is the newest
// release that builds from the Go module proxy with this machine's Go; etcd is
// the version that release's own hack/lib/etcd.sh tests against.
export const KUBERNETES_VERSION = 'v1.37.2';
export const ETCD_VERSION = 'v3.7.0';
