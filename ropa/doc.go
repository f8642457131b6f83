// Package ropa writes beacongate's record of processing activities (GDPR
// Art. 30): the document a privacy officer hands to an auditor, saying per
// consent state and per destination which personal data is collected, how
// each category is transformed, how pseudonym keys rotate and who could
// re-identify, what is dropped, and where records are kept.
//
// Everything in the document is derived from a parsed config.Config (and
// from the constants of the anonymize packages that the config does not
// set), so it cannot drift from what the gateway runs: regenerate it
// whenever the config changes, and compare its policy version with the
// "policy" field of the records.
//
// Build turns a config into a Report; WriteMarkdown and WriteHTML render
// the same content. The HTML is one self-contained page with no external
// assets, every value escaped. Rules gives the per-field actions of one
// policy, which "beacongate explain" shows beside each field.
package ropa
