// macho-sign: an ad-hoc code signature for a macOS executable, as
// `codesign --force --sign - <file>` makes it, written on any platform.
//
// macOS on arm64 runs no executable without a valid signature, and an
// executable whose pages no longer match its signature is killed at start
// on either architecture. `bun build --compile` appends the plugin to a
// signed copy of its runtime; for darwin/x64 it keeps the runtime's old
// signature, which no longer covers the file. This replaces whatever
// signature the file has with an ad-hoc one over its final bytes, using
// github.com/blacktop/go-macho (which keeps the existing entitlements).
//
// Usage: macho-sign <in> <out> <identifier>
package main

import (
	"fmt"
	"os"

	macho "github.com/blacktop/go-macho"
	"github.com/blacktop/go-macho/pkg/codesign"
	cstypes "github.com/blacktop/go-macho/pkg/codesign/types"
)

func sign(in, out, id string) error {
	f, err := macho.Open(in)
	if err != nil {
		return fmt.Errorf("%s is not a thin Mach-O file: %w", in, err)
	}
	defer f.Close()
	if err := f.CodeSign(&codesign.Config{ID: id, Flags: cstypes.ADHOC}); err != nil {
		return fmt.Errorf("signing %s: %w", in, err)
	}
	return f.Save(out)
}

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: macho-sign <in> <out> <identifier>")
		os.Exit(2)
	}
	if err := sign(os.Args[1], os.Args[2], os.Args[3]); err != nil {
		fmt.Fprintln(os.Stderr, "macho-sign:", err)
		os.Exit(1)
	}
}
