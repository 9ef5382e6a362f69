//go:build tools

// Pins helm's command so that `go mod tidy` keeps its requirements; the
// binary is built with `go build helm.sh/helm/v4/cmd/helm`.
package tools

import _ "helm.sh/helm/v4/cmd/helm"
