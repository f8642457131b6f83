package ropa

import (
	"strings"
	"testing"
)

// TestReportStatesRetention: the report states the configured retention
// of each file destination and of dead letters, and says plainly when
// there is none.
func TestReportStatesRetention(t *testing.T) {
	_, _, text := render(t, build(t, parse(t, "")))
	for _, s := range []string{"beacongate never deletes finished files", "Dead letters (batches a destination refused for good) are kept until deleted by hand"} {
		if !strings.Contains(text, s) {
			t.Errorf("default report lacks %q", s)
		}
	}
	_, _, text = render(t, build(t, parse(t, "privacy:\n  retention: {local: 395d}\n  dead_letter_retention: 30d\n")))
	for _, s := range []string{"a finished file is deleted 9480h (395 days) after its last write (privacy.retention)", "Dead letters (batches a destination refused for good) are deleted 720h (30 days) after"} {
		if !strings.Contains(text, s) {
			t.Errorf("report lacks %q:\n%s", s, text)
		}
	}
	if strings.Contains(text, "never deletes finished files") {
		t.Error("report still says files are never deleted")
	}
}
