package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"

	"github.com/beacongate/beacongate/clock/clocktest"
)

// TestSubjectContactHashes: for an e-mail address or phone number, subject
// prints the hash each ad platform destination of the shop example got,
// normalised by that platform's rules, and never the value itself.
func TestSubjectContactHashes(t *testing.T) {
	pinClocks(t, clocktest.Golden)
	sum := func(s string) string { h := sha256.Sum256([]byte(s)); return hex.EncodeToString(h[:]) }
	data := t.TempDir() // the audit log and subject key go here, not to the example's data_dir
	// The audit log names the value by its keyed hash, which needs the
	// secret: without it the lookup was shown and never recorded. Now it
	// is refused, and says what is missing.
	t.Setenv("BEACONGATE_PSEUDONYM_SECRET", "")
	if code, out := cli(t, "subject", "-config", exampleConfig("shop-retargeting.yaml"), "-data", data, "-kind", "email", "-id", "jane@example.org"); code != 1 ||
		strings.Contains(out, "meta (meta)") || !strings.Contains(out, "BEACONGATE_PSEUDONYM_SECRET") {
		t.Errorf("a lookup that cannot be recorded (no secret): exit %d\n%s", code, out)
	}
	t.Setenv("BEACONGATE_PSEUDONYM_SECRET", "0123456789abcdef0123456789abcdef-contact")
	code, out := cli(t, "subject", "-config", exampleConfig("shop-retargeting.yaml"), "-data", data, "-kind", "email", "-id", " Jane.Doe@Gmail.com", "-format", "json")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, out)
	}
	var rep struct {
		Hashes []contactHash
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	want := map[string]string{"meta": sum("jane.doe@gmail.com"), "ga4": sum("janedoe@gmail.com"), "tiktok": sum("jane.doe@gmail.com")}
	if len(rep.Hashes) != len(want) {
		t.Fatalf("hashes for %d destinations; want the three ad platforms: %s", len(rep.Hashes), out)
	}
	for _, h := range rep.Hashes {
		if h.Hash != want[h.Destination] || h.Field != "em" {
			t.Errorf("%s: %s %s; want em %s", h.Destination, h.Field, h.Hash, want[h.Destination])
		}
	}
	if strings.Contains(out, "Jane") || strings.Contains(out, "jane.doe@") {
		t.Errorf("output repeats the e-mail address:\n%s", out)
	}
	code, out = cli(t, "subject", "-config", exampleConfig("shop-retargeting.yaml"), "-data", data, "-kind", "phone", "-id", "+49 30 1234567")
	if code != 0 || !strings.Contains(out, "meta (meta) ph: "+sum("49301234567")) || !strings.Contains(out, "ga4 (google) ph: "+sum("+49301234567")) {
		t.Errorf("phone lookup (exit %d):\n%s", code, out)
	}
	// Without ad platforms nothing was hashed anywhere.
	code, out = cli(t, "subject", "-config", exampleConfig("analytics-only.yaml"), "-data", data, "-kind", "email", "-id", "jane@example.org")
	if code != 0 || !strings.Contains(out, "none was sent anywhere") {
		t.Errorf("analytics-only (exit %d):\n%s", code, out)
	}
	if code, _ := cli(t, "subject", "suppress", "-config", exampleConfig("shop-retargeting.yaml"), "-data", data, "-kind", "email", "-id", "x@y.z"); code != 2 {
		t.Errorf("suppress -kind email: exit %d; want 2", code)
	}
}
