package anonymize

// Slots of idMemo: the keyed hashes a record can carry.
const (
	memoUser = iota
	memoClient
	memoDevice
	memoVisitor
	numMemo
)

// idMemo keeps the pseudonyms and the visitor hash of the event being
// recorded, so that the records of its distinct destination policies
// (AppendRecords makes one per policy) compute each keyed hash once. A value
// depends only on the event (site, id, receive time, reduced user agent,
// truncated address), never on the policy: a policy only decides whether the
// record carries it. The buffers live in the pooled scratch, so keeping a
// value does not allocate once they have grown.
type idMemo struct {
	on   bool  // AppendRecords is making more than one record of one event
	have uint8 // bit per slot: val holds the value
	val  [numMemo][]byte
}

// start begins an event of records records: the memo is used only when
// there is more than one.
func (m *idMemo) start(records int) {
	m.on, m.have = records > 1, 0
}

// stop ends the event: nothing is kept for the next one.
func (m *idMemo) stop() { m.on, m.have = false, 0 }

// appendHash appends "key":"value" where value is the slot's hash: kept from
// an earlier record of the event, or computed by add (and kept when the
// memo is on).
func (en *Engine) appendHash(dst []byte, m *idMemo, slot int, key string, add func([]byte) []byte) []byte {
	if !m.on {
		return en.appendQuoted(dst, key, add)
	}
	if m.have&(1<<slot) != 0 {
		v := m.val[slot]
		return en.appendQuoted(dst, key, func(d []byte) []byte { return append(d, v...) })
	}
	m.have |= 1 << slot
	return en.appendQuoted(dst, key, func(d []byte) []byte {
		n := len(d)
		d = add(d)
		m.val[slot] = append(m.val[slot][:0], d[n:]...)
		return d
	})
}
