// Package wiring is the one place that maps the YAML config onto the
// parts that run: it compiles the policy into a config-free plan
// (package plan) for the engine, maps the spool and destinations onto
// package upstream's options, loads the pseudonym secret and the vendor
// list, and says which settings a reload applies and which need a
// restart. Nothing else outside package config and the command reads the
// config's types.
package wiring
