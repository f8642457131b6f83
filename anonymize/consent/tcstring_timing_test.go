package consent

import (
	"testing"

	"github.com/LiveRamp/iabconsent"
)

// Benchmark strings from the public vectors.
const (
	// benchTypical is "recent real CMP string" (iabtcf-es, 2026): TCF 2.2,
	// 11 purposes, range-encoded vendors, 62 characters.
	benchTypical = "CQd924AQd924AASACCENCNFsAP_gAEIAACiQL6QBAAGAAOANmAcAF9IAIADgAA"
	// benchSegments is "4 segments" (iabconsent): core, disclosed and
	// allowed vendors, publisher TC.
	benchSegments = "COvzTO5OvzTO5B7ABCENAPCYAKdAADkAAIqIFhwBAAGAAXAFGAsMAhYAgAMAAegBYAEKAAA.IFoEUQQgAIQwgIwQABAEAAAAOIAACAIAAAAQAIAgEAACEAAAAAgAQBAAAAAAAGBAAgAAAAAAAFAAECAAAgAAQARAEQAAAAAJAAIAAgAAAYQEAAAQmAgBC3ZAYzUw.QE5QAwCvgHyATkA"
	// benchLarge is "dup pubrestrictions" (iabtcf-es): 635 characters,
	// bit-field vendors up to 808, many publisher restrictions.
	benchLarge = "CO4VGswO4VGswAfZCBDEAzCsAP_AAH_AAAigGUNf_X9fb2vj-_599_t0eY1f9_63t-wzjheMs-8NyZ-X_J4Wv2MyvB34JqQKGRgkunLBAQdtHGncTQgBwIlViTLMY02MjzNKJrJEilsbe2dYGH9vn8XT_ZKZ70-_v__7v3___33_5Ayhr_6_r7e18f3_Pvv9ujzGr_v_W9v2GccLxln3huTPy_5PC1-xmV4O_BNSBQyMEl05YICDto407iaEAOBEqsSZZjGmxkeZpRNZIkUtjb2zrAw_t8_i6f7JTPen39___d-___--__ICgKAOAAcAA4AFAAjgB6AEYALcGACAW0AtoJAHAAOAAcACgARwA9ACMAFuFABALaAW0GgDgAHAAOABQAI4AegBGAC3DgAgFtALaEQBwADgAHAAoAEcAPQAjABbiQAQC2gFtCoA4ABwADgAUACOAHoARgAtxYAIBbQC2hkAcAA4ABwAKABHAD0AIwAW40AEAtoBbQ6AOAAcAA4AFAAjgB6AEYALceACAW0AtohAHAAOAAcACgARwA9ACMAFuRABALaAW0SgDgAHAAOABQAI4AegBGAC3JgAgFtALaKQBwADgAHAAoAEcAPQAjABblQAQC2gFtA"
)

var (
	sinkErr    error
	sinkBool   bool
	sinkAnswer Answer
	sinkV2     *iabconsent.V2ParsedConsent
)

func benchDecode(b *testing.B, s string) {
	in := []byte(s)
	tc := new(TCString)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		sinkErr = tc.Decode(in)
		sinkBool = tc.VendorConsent(435)
	}
	if sinkErr != nil {
		b.Fatal(sinkErr)
	}
}

func benchOracle(b *testing.B, s string) {
	b.SetBytes(int64(len(s)))
	b.ReportAllocs()
	for b.Loop() {
		sinkV2, sinkErr = iabconsent.ParseV2(s)
		sinkBool = sinkV2.VendorAllowed(435)
	}
	if sinkErr != nil {
		b.Fatal(sinkErr)
	}
}

func BenchmarkDecodeTCTypical(b *testing.B)        { benchDecode(b, benchTypical) }
func BenchmarkDecodeTCSegments(b *testing.B)       { benchDecode(b, benchSegments) }
func BenchmarkDecodeTCLarge(b *testing.B)          { benchDecode(b, benchLarge) }
func BenchmarkDecodeTCOracleTypical(b *testing.B)  { benchOracle(b, benchTypical) }
func BenchmarkDecodeTCOracleSegments(b *testing.B) { benchOracle(b, benchSegments) }
func BenchmarkDecodeTCOracleLarge(b *testing.B)    { benchOracle(b, benchLarge) }

// BenchmarkDecodeTCMalformed is the junk path: a truncated string.
func BenchmarkDecodeTCMalformed(b *testing.B) {
	in := []byte(benchTypical[:40])
	tc := new(TCString)
	b.ReportAllocs()
	for b.Loop() {
		sinkErr = tc.Decode(in)
	}
	if sinkErr == nil {
		b.Fatal("decoded")
	}
}

func BenchmarkDecodeTCParallel(b *testing.B) {
	in := []byte(benchTypical)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		tc := new(TCString)
		var err error
		for pb.Next() {
			err = tc.Decode(in)
		}
		if err != nil {
			b.Error(err)
		}
	})
}
