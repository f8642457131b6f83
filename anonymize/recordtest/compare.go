package recordtest

import (
	"fmt"
	"net/netip"
	"net/url"
	"slices"
	"strings"
)

// Exceeds compares record b with record a, both decoded into untyped
// values (json.Decoder with UseNumber), field by field, and returns each
// field where b holds more than a: a field a does not have, an address
// that is no prefix of a's, a URL, referrer or user agent with a word
// a's lacks, a finer coordinate, a property, contact datum, click id or
// other value that differs, ad_personalization granted where a's is not.
// The fields that say what the record is (v, id, policy, received, kind,
// site, scrubbed, bot, http_client, server_to_server) and the consent
// purposes are not compared. Tests of "less consent never yields more
// data" use it on the records of a request and of its withdrawn variant.
func Exceeds(a, b map[string]any) []string {
	var out []string
	for k, vb := range b {
		switch k {
		case "v", "id", "policy", "received", "kind", "site", "scrubbed", "bot", "http_client", "server_to_server":
			continue
		case "consent":
			ca, _ := a[k].(map[string]any)
			cb, _ := vb.(map[string]any)
			if cb["ad_personalization"] == true && ca["ad_personalization"] != true {
				out = append(out, "consent: ad_personalization")
			}
			continue
		}
		va, ok := a[k]
		if !ok {
			out = append(out, fmt.Sprintf("%s: %v; absent with more consent", k, vb))
			continue
		}
		switch k {
		case "ip":
			if !ipCoarser(fmt.Sprint(va), fmt.Sprint(vb)) {
				out = append(out, fmt.Sprintf("ip %v is no prefix of %v", vb, va))
			}
		case "url", "referrer", "user_agent":
			if extra := moreWords(fmt.Sprint(va), fmt.Sprint(vb)); len(extra) > 0 {
				out = append(out, fmt.Sprintf("%s %q holds %q, which %q does not", k, vb, extra, va))
			}
		case "geo", "ua", "ble", "props", "contact", "click":
			ma, _ := va.(map[string]any)
			mb, _ := vb.(map[string]any)
			for kk, vv := range mb {
				switch {
				case k == "ua" && (kk == "bot" || kk == "class" || kk == "bot_name" || kk == "client_name"):
				case k == "geo" && (kk == "lat" || kk == "lon"):
					if _, ok := ma[kk]; !ok {
						out = append(out, fmt.Sprintf("geo.%s %v; absent with more consent", kk, vv))
					} else if decimals(vv) > decimals(ma[kk]) {
						out = append(out, fmt.Sprintf("geo.%s %v finer than %v", kk, vv, ma[kk]))
					}
				default:
					if fmt.Sprint(ma[kk]) != fmt.Sprint(vv) {
						out = append(out, fmt.Sprintf("%s.%s %v; with more consent %v", k, kk, vv, ma[kk]))
					}
				}
			}
		default:
			if fmt.Sprint(va) != fmt.Sprint(vb) {
				out = append(out, fmt.Sprintf("%s %v; with more consent %v", k, vb, va))
			}
		}
	}
	slices.Sort(out)
	return out
}

// ipCoarser reports whether address b is address a cut to a prefix: all
// b says, a says too.
func ipCoarser(a, b string) bool {
	pa, err1 := netip.ParseAddr(a)
	pb, err2 := netip.ParseAddr(b)
	if err1 != nil || err2 != nil || pa.BitLen() != pb.BitLen() {
		return false
	}
	for bits := 0; bits <= pa.BitLen(); bits++ {
		if p, err := pa.Prefix(bits); err == nil && p.Addr() == pb {
			return true
		}
	}
	return false
}

// decimals counts the decimals of a JSON number.
func decimals(v any) int {
	s := fmt.Sprint(v)
	if i := strings.IndexByte(s, '.'); i >= 0 {
		return len(s) - i - 1
	}
	return 0
}

// moreWords returns the words of b that a does not have: letters and digits
// runs, percent-escapes decoded, the markers the scanner writes ([email],
// {id}) left out.
func moreWords(a, b string) []string {
	have := map[string]bool{}
	for _, w := range words(a) {
		have[w] = true
	}
	var extra []string
	for _, w := range words(b) {
		if !have[w] {
			extra = append(extra, w)
		}
	}
	return extra
}

func words(s string) []string {
	for range 3 {
		if u, err := url.QueryUnescape(s); err == nil {
			s = u
		}
	}
	for _, m := range []string{"[email]", "[phone]", "[card]", "[iban]", "[token]", "[ip]", "[mac]", "[id]", "[device]", "[geo]", "{id}"} {
		s = strings.ReplaceAll(s, m, " ")
	}
	return strings.FieldsFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
	})
}
