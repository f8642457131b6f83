package wiring

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/beacongate/beacongate/upstream/adplatform"
)

// TestGA4MaxInFlight: ga4.max_in_flight reaches the sink, and its default
// is the sink's own.
func TestGA4MaxInFlight(t *testing.T) {
	secret := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secret, []byte("s\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for set, want := range map[string]int{"": adplatform.DefaultMaxInFlight, ", max_in_flight: 1": 1, ", max_in_flight: 32": 32} {
		cfg := parse(t, "consent: {purposes: [analytics, ads]}\ndestinations:\n  - name: ga\n    type: ga4\n    requires: [ads]\n    ga4: {measurement_id: G-ABC123, api_secret_file: "+secret+set+"}\n")
		o, ok := PlatformOptions(&cfg.Destinations[0])
		if !ok || o.MaxInFlight != want {
			t.Errorf("%q: MaxInFlight %d; want %d", set, o.MaxInFlight, want)
		}
	}
}
