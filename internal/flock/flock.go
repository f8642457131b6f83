// Package flock takes exclusive advisory locks on files, so that the
// processes sharing a data directory (a gateway, the officer's commands,
// instances on a shared volume) serialize their read-modify-write of one
// file (the suppression list, the key store's destruction watermark, the
// audit log), or tell a file another process is writing (a file
// destination's .part file) from one a run left behind.
package flock
