// Package consent turns the consent signals that arrive with an event (IAB TCF
// v2.2 TC strings, Google Consent Mode v2, the IAB US Privacy and GPP strings,
// Global Privacy Control, Do Not Track and an explicit purpose list) into one
// answer per event: which of our purposes are allowed, which signal decided,
// and which signals were present, malformed or rejected.
//
// Everything on the request path is allocation-free: decoders read the
// caller's bytes and write into caller-owned values (TCString, Answer), and
// errors are package-level sentinels or a DecodeError kept inside the
// TCString and formatted only when Error is called. SIGNALS.md explains, for a
// privacy officer, how each signal maps to our purposes.
//
// The package knows nothing about HTTP: the gateway copies the relevant query
// parameters, cookies and headers into a Signals value.
package consent
