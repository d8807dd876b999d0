//go:build tools

// Pins the Helm command in go.mod so `go build helm.sh/helm/v4/cmd/helm` resolves from it.
package tools

import _ "helm.sh/helm/v4/cmd/helm"
