// Package pseudonym replaces identifiers (user id, client or device id, BLE
// MAC, advertising id) with keyed hashes that rotate, and computes the
// cookieless daily visitor hash.
//
// # What is computed
//
// A pseudonym is HMAC-SHA256 over the site and the identifier, keyed with the
// key of the current period, cut to 128 bits and written as 22 characters of
// unpadded base64url:
//
//	HMAC-SHA256(K_period, "p" || len(site) || site || identifier)[:16]
//
// The site is part of the input, so the same person on two sites gets two
// unrelated pseudonyms: sites cannot join their visitors. Within one site
// and one period the pseudonym is stable, so a visitor's events can be
// linked; the next period uses a new key, so they cannot be linked across
// periods by anyone who lacks the keys.
//
// The visitor hash (like the daily-salt counting of Plausible or Fathom) is
// the same construction over site, truncated address and reduced user agent,
// with its own key per visitor period (default: the UTC day):
//
//	HMAC-SHA256(V_day, "v" || len(site) || site || len(ip) || ip || user agent)[:16]
//
// It lets a site count unique visitors per day with no identifier at all.
// Its key keeps the visitor period whatever the pseudonym period is: with
// pseudonym periods shorter than it, a record's visitor hash links the
// record's pseudonyms of the periods within one visitor period, which the
// gateway's documentation tells operators (pseudonym.visitor_hash: false
// turns it off).
//
// Periods are counted from the Unix epoch in UTC: the default 24h period
// starts at 00:00 UTC every day, on every node, whatever its time zone.
//
// # The two key modes, side by side
//
//	                        Derived                          Ephemeral (default)
//	Where keys come from    HKDF-SHA256(secret, period)      crypto/rand, new each period
//	What must be kept       a secret file or env variable    nothing
//	Edge nodes agree?       yes, without talking             no: each node has its own keys
//	Who can link periods    anyone holding the secret can    nobody, once the period ends
//	                        recompute every past key and
//	                        link a visitor across periods
//	Who can re-identify     holder of the secret + a list    while the period lasts, only
//	(test a known id)       of candidate ids, for any period the running process; afterwards
//	                                                         nobody
//	When a key is forgotten never (it can be re-derived)     Grace (10s) after its period ends,
//	                                                         at the next request or Rotate call
//	Restart                 same pseudonyms as before        new keys: pseudonyms change
//	Visitor hash key        derived the same way ("visitor") random per day, per node
//
// Choose Derived when several nodes must produce the same pseudonym for the
// same visitor (load balancing without stickiness) and the secret can be
// protected like a password: it is the key to every past period. Choose
// Ephemeral when unlinkability after the period matters more: counts
// across nodes then overcount visitors seen by more than one node.
//
// In both modes, a pseudonym cannot be reversed; it can only be confirmed by
// someone who has the period's key and guesses the identifier. Keys never
// leave the process: they are not logged, not written and not in any error
// message. A Secret prints as "[redacted]" in every format.
//
// # Why HMAC-SHA256 and not a faster keyed PRF
//
// SipHash-2-4-128 was measured against this package's HMAC (pooled hasher,
// precomputed pad states) on the input sizes the engine hashes (issue 21,
// BenchmarkPRF, 8 runs on the 2-vCPU development machine, median): 212 /
// 248 / 305 ns for 24 / 53 / 115 bytes against 66 / 96 / 106 ns. A pixel
// hashes twice (client id, visitor hash), so the saving is about 0.35 µs of
// the 10.7-12.9 µs a pixel costs the gateway, about 3 %; a BLE sighting
// (device pseudonym, visitor hash of ~24 bytes each) would save about
// 0.3 µs of its ~3.4 µs, 9 %, on a minority of the traffic.
// Switching would change every pseudonym and visitor hash once, at the
// upgrade: in derived mode the same visitor would get two pseudonyms on
// upgrade day (visitor counts doubled for that period, joins across the
// upgrade broken), and `beacongate subject`, explain and the key store
// would have to know which function each period used. HMAC-SHA256 stays:
// the gain is small against what a migration costs. Either function would
// be sound here: both are PRFs whose security rests on the key alone, so a
// low-entropy identifier (a phone number, an e-mail) is protected exactly
// as long as the period key is secret, and neither can be brute-forced
// without it.
//
// "Forgotten" means that the process drops every reference to the key's
// state and resets pooled hash states after each use. Go cannot promise to
// wipe memory that the garbage collector has not yet reused.
package pseudonym
