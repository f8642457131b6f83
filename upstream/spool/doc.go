// Package spool is beacongate's durable on-disk queue: an append-only log of
// already anonymized records, split into segment files, read independently by
// one Reader per destination, each with its own persisted cursor.
//
// # Writing
//
// Append copies a record into a shared in-memory buffer and waits until that
// buffer has been written by a group commit: whichever appender finds no
// write in progress becomes the leader, takes the whole buffer (its own
// record and every record appended meanwhile by other connections) and writes
// it with one pwrite call, then (in DurabilityFsync mode) one fsync. Appends
// never allocate in the steady state.
//
// Append is Enqueue and Wait. A caller with several records (the events of
// one request) enqueues them all into its Pending, then waits once: they
// share the group writes (one, unless the buffer fills or a leader takes
// it between two of them) instead of each waiting for a write of its own,
// and Wait reports a failed write of any group they joined.
//
// Durability says when Append, or Wait, may return:
//
//   - DurabilityProcess (default): the record's bytes were handed to the kernel
//     by write(2). The record survives a crash or kill -9 of the process, but
//     not a crash of the machine or a power loss (the page cache is lost).
//   - DurabilityFsync: the record was written and fsync(2)ed. It survives a
//     power loss too. Appends waiting at the same time share one fsync; an
//     Append waits at most for the fsync in progress, Options.FsyncMaxDelay
//     (an optional extra wait to gather larger groups, 0 by default) and its
//     own group's fsync (Wait, for those of the groups its records joined).
//
// Below saturation on one core, the other requests are still in the socket
// buffers when a leader writes, so groups hold one record. With
// Options.GatherWindow (process durability), a leader whose appends have
// been coming less than a window apart sleeps for the window first: the
// core then takes the waiting requests off the network and they join the
// group.
//
// Slow file work never runs in an Append: a background goroutine writes the
// next segment's reserve ahead of need (the Append that starts a segment
// renames it into place, or creates the file itself if the reserve is being
// written), deletes delivered segments (renamed to .deleted, then truncated
// in 1 MiB steps and removed, outside any lock), and syncs the directory
// after a segment was created in process durability.
//
// In process durability the newest delivered segment is recycled instead of
// deleted, unless the reserve is a recycled segment already, the disk
// fails or the reserve could not be written, the spool is within three
// segments of MaxBytes, or the file is longer than a segment and a record
// (checked again before the rename): it is
// overwritten with zeros (in 1 MiB steps, pausing for the requests between
// them), given this run's recycled header ("BGSPOOLR") and renamed to the
// reserve. The next segment then writes into pages the kernel has cached
// rather than taking new ones and freeing them once delivered, which costs
// more (see docs/benchmark-history.md); segments are small by default
// (16 MiB in process durability) so that the reused pages stay cached. The
// zeros past the last frame are cut when the segment is left and, after a
// crash, by Open. After a crash of the process no delivered record can be
// read again, since every byte of it was overwritten before the file was
// reused; after a power loss, pages the zeros had not yet reached on disk
// can come back, and their records be delivered again (process durability
// does not survive a power loss; delivery is at least once). Not in fsync
// durability, which is meant to survive one. Once Close waits for the
// background work, nothing more is recycled (a pass under way when Close
// began finishes, and may recycle the last retired segment; the next Open
// removes the recycled reserve). A
// segment left early by a roll of a delivered segment on a full disk has
// its unused zeros cut in that roll, while appends wait (a few ms for a
// mostly unused 16 MiB segment).
//
// A beacongate from before recycling reads a "BGSPOOLR" header as damaged:
// the segment's frames are read all the same, and it goes to quarantine
// once delivered.
//
// # Reading
//
// The newest Options.TailBytes of the stream stay in memory after their
// write. A Reader that keeps up copies its records from there; one that is
// behind by more, or starts after a restart, reads the segment files. Both
// see the same bytes at the same offsets.
//
// # On-disk format
//
// Offsets are positions in one logical byte stream that never goes back, even
// across restarts. A segment file is named after the offset of its first
// byte, as 20 decimal digits plus ".seg", and holds:
//
//	header: "BGSPOOL1" | u32 n | u32 CRC32C(bytes 0..11 and names) | names (n bytes, '\n'-separated)
//	        (a recycled segment: "BGSPOOLR", and zeros may follow its last frame)
//	frames: u32 len | u32 CRC32C(len, route, time, record) | u64 route | i64 unix ms | record (len bytes)
//
// All integers are little-endian. The time is the clock's (Options.Clock) when
// the record was appended; the records enqueued into one Pending share the
// first one's. The names in the header give the meaning of
// the route bits of every frame in that segment (bit i = the i-th name), so a
// change of the configured destinations between runs never sends an old record
// to the wrong destination. Each run starts a new segment.
//
// A cursor file <name>.cursor holds the destination's offset (u64, CRC32C,
// "CUR1"). It is written after the destination acknowledged the records
// before it, without fsync: a stale cursor only re-sends records (delivery is
// at least once); the stream never reuses an offset, so a cursor can never
// skip records written later. A segment is deleted or recycled (and the
// directory fsynced) once every destination's cursor has passed it.
//
// # Full disk
//
// next-segment.reserve holds the next segment's header, written in advance
// (or is a recycled segment). When every destination has passed the end of
// the segment being written while the disk fails (or the spool is at
// MaxBytes), that segment is rolled into the reserve (a rename, which needs
// no new space) and deleted: a failing disk gets delivered segments' space
// back, they are not recycled. Open on
// a full disk uses the reserve too; without one it opens without a segment
// to write: Appends fail with a *DiskError while the readers drain what is
// spooled, until a write works. Err retries the disk by itself once
// Options.DiskRetryInterval has passed, for readiness checks.
//
// # Damage
//
// On Open the newest segment is scanned and a torn tail (bytes after the last
// frame that verifies, e.g. a frame cut short by a crash) is copied to the
// quarantine folder, truncated and counted; in a recycled segment, the zeros
// that end the file (its unused end) are truncated, not counted or kept.
// Frames that verify are never truncated. Readers verify every frame's CRC; a bad frame (a wrong CRC, or
// a length out of bounds or running past the segment's end) is skipped up to
// the next frame start whose length is in bounds and whose CRC verifies, and
// its bytes are counted exactly. A damaged segment header costs no frame: if
// only its magic is damaged it is restored, otherwise the frames are read
// with this run's destination names. A segment that held damage is moved to
// <dir>/quarantine/ instead of being deleted once every destination has
// passed it. Damaged input never causes a panic.
package spool
