// Command etcd is etcd's own server entry point, built from its Go module.
// etcd's go.mod files carry `replace` directives, so `go install` of
// go.etcd.io/etcd/server/v3 fails; wrapping etcdmain here builds the same
// binary through this module's dependency graph.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
