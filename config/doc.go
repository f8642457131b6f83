// Package config reads beacongate's configuration file: one YAML file that
// privacy officers can read and change.
//
// Parse decodes strictly and reports every problem at once, each as
// "file:line:column: key.path: what is wrong; what is allowed". It walks the
// yaml.Node tree against the Go types first (walk.go), so unknown keys,
// wrong types and out-of-range numbers carry their position; it then decodes
// with the yaml decoder in strict mode, fills defaults for every key the
// file leaves out (defaults.go), and checks the meaning of the values and
// contradictions between them (validate.go).
//
// The Go types in config.go are the single source of the file format: their
// field comments and tags generate config.schema.json and docs/config.md
// (go generate ./config), and tests fail when those are out of date.
//
// Nothing on the request path reads a Config: package wiring compiles it
// into the engine's plan and the other parts' options.
//
// This package imports no beacongate package but suggest.
package config

//go:generate go test -run ^TestGeneratedFiles$ -update .
