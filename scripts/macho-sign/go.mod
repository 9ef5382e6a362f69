// The ad-hoc signer for the plugin's macOS executables (scripts/macho-sign.ts
// builds it once into the cache, as cluster/k8s-build is built).
module kubectl-custom.test/macho-sign

go 1.26.0

require github.com/blacktop/go-macho v1.1.298

require github.com/blacktop/go-dwarf v1.1.0 // indirect
