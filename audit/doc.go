// Package audit keeps the gateway's audit log: append-only JSON lines, one
// per event a privacy officer must be able to prove (config loads and
// reloads, refused reloads, key creation and destruction, retention
// deletions, suppression changes, subject lookups).
//
// Each line carries the SHA-256 of the previous line ("prev") and its own
// hash ("hash", over the line with hash empty), so that changing, removing
// or reordering a line breaks the chain at that line; Verify reports the
// first broken one. The chain proves integrity against edits, not against
// someone who rewrites the whole file from the edit on: keep a copy of the
// last hash elsewhere (it is logged at each start) to anchor it.
//
// Identifiers never enter the log: a subject is recorded by a keyed hash
// (SubjectHash), a token by its SHA-256 prefix (TokenHash).
package audit
