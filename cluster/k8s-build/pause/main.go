// Command pause is the local node's sandbox ("pause") image: it holds a pod's
// namespaces, reaps the orphans it inherits as PID 1, and exits on SIGINT or
// SIGTERM, as Kubernetes' build/pause/linux/pause.c does. Written in Go so the
// node needs no C toolchain and no registry: it builds with the node's other
// binaries (no cgo: a static executable) into an image made on this machine.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "-v" {
		os.Stdout.WriteString("pause (kubectl-custom local node)\n")
		return
	}
	signals := make(chan os.Signal, 8)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM, syscall.SIGCHLD)
	for s := range signals {
		if s != syscall.SIGCHLD {
			os.Exit(0)
		}
		for {
			var status syscall.WaitStatus
			if pid, err := syscall.Wait4(-1, &status, syscall.WNOHANG, nil); pid <= 0 || err != nil {
				break
			}
		}
	}
}
