package consent

import "testing"

func benchEvaluate(b *testing.B, o Options, s Signals) {
	e, err := NewEvaluator(o)
	if err != nil {
		b.Fatal(err)
	}
	tc := new(TCString)
	b.ReportAllocs()
	for b.Loop() {
		sinkAnswer = e.Evaluate(&s, tc)
	}
}

// BenchmarkEvaluateTCF is the common EU case: gdpr=1 and a typical TC string.
func BenchmarkEvaluateTCF(b *testing.B) {
	benchEvaluate(b, Options{}, Signals{GDPR: []byte("1"), TCString: []byte(benchTypical)})
}

// BenchmarkEvaluateTCFVendor adds our vendor id check and Consent Mode.
func BenchmarkEvaluateTCFVendor(b *testing.B) {
	benchEvaluate(b, Options{VendorID: 435}, Signals{GDPR: []byte("1"), TCString: []byte(benchTypical),
		GCS: []byte("G111"), GCD: []byte("13r3r3r3r5l1")})
}

// BenchmarkEvaluateAllSignals sends every kind of signal at once.
func BenchmarkEvaluateAllSignals(b *testing.B) {
	benchEvaluate(b, Options{}, Signals{GDPR: []byte("1"), TCString: []byte(benchTypical), GCS: []byte("G111"),
		GCD: []byte("13r3r3r3r5"), USPrivacy: []byte("1YNN"), GPP: []byte(gppHeader(6, 7) + "~1YNN~BVVqAAEABCA.QA"),
		Consent: []byte("analytics,ads"), GPC: true, DNT: true})
}

// BenchmarkEvaluateNoTCF is the US / no-banner case: GPC and Consent Mode only.
func BenchmarkEvaluateNoTCF(b *testing.B) {
	benchEvaluate(b, Options{}, Signals{GCS: []byte("G101"), GPC: true})
}

// BenchmarkEvaluateMalformed is junk: an unexpanded macro as the TC string.
func BenchmarkEvaluateMalformed(b *testing.B) {
	benchEvaluate(b, Options{}, Signals{GDPR: []byte("${GDPR}"), TCString: []byte("${GDPR_CONSENT_755}")})
}
