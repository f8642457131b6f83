package config

import (
	"strings"
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	f := func(in string, want time.Duration, wantErr string) {
		t.Helper()
		got, err := ParseDuration(in)
		if wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), wantErr) {
				t.Fatalf("ParseDuration(%q) = %v, %v; want error containing %q", in, got, err, wantErr)
			}
			return
		}
		if err != nil || got.D() != want {
			t.Fatalf("ParseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
		// String parses back to the same value.
		if back, err := ParseDuration(got.String()); err != nil || back != got {
			t.Fatalf("%q: String %q parses to %v, %v", in, got.String(), back, err)
		}
	}
	f("5s", 5*time.Second, "")
	f("250ms", 250*time.Millisecond, "")
	f("1m30s", 90*time.Second, "")
	f("24h", 24*time.Hour, "")
	f("7d", 7*24*time.Hour, "")
	f("0s", 0, "")
	f("1.5s", 1500*time.Millisecond, "")
	f("5", 0, "has no unit")
	f("-1s", 0, "negative")
	f("d", 0, "is not a duration")
	f("1w", 0, "is not a duration")
	// Too large for a duration (about 292 years): said so, with the
	// longest there is, not "not a duration".
	f("99999999d", 0, "99999999d is too large; a duration is at most 2562047h")
	f("99999999999h", 0, "99999999999h is too large; a duration is at most 2562047h")
	f("1h9223372036s", 0, "is too large")
	f("-99999999999h", 0, "negative")
	f("70000d", 70000*24*time.Hour, "") // beyond a uint16 of days, well within a duration
	f("1.5.5s", 0, "is not a duration")
	f("5 s", 0, "is not a duration")

	g := func(d time.Duration, want string) {
		t.Helper()
		if got := Duration(d).String(); got != want {
			t.Fatalf("Duration(%v).String() = %q; want %q", d, got, want)
		}
	}
	g(24*time.Hour, "24h")
	g(90*time.Minute, "1h30m")
	g(time.Minute, "1m")
	g(5*time.Millisecond, "5ms")
	g(0, "0s")
}

func TestParseByteSize(t *testing.T) {
	f := func(in string, want int64, wantErr string) {
		t.Helper()
		got, err := ParseByteSize(in)
		if wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), wantErr) {
				t.Fatalf("ParseByteSize(%q) = %v, %v; want error containing %q", in, got, err, wantErr)
			}
			return
		}
		if err != nil || got.Int() != want {
			t.Fatalf("ParseByteSize(%q) = %v, %v; want %d", in, got, err, want)
		}
		if back, err := ParseByteSize(got.String()); err != nil || back != got {
			t.Fatalf("%q: String %q parses to %v, %v", in, got.String(), back, err)
		}
	}
	f("65536", 65536, "")
	f("64KiB", 64<<10, "")
	f("64 KiB", 64<<10, "")
	f("1MiB", 1<<20, "")
	f("1GiB", 1<<30, "")
	f("2TiB", 2<<40, "")
	f("1KB", 1000, "")
	f("1kB", 1000, "")
	f("5MB", 5e6, "")
	f("100B", 100, "")
	f("0", 0, "")
	f("1.5MiB", 0, "whole numbers only")
	f("-1", 0, "negative")
	f("+1", 0, "is not a size")
	f("MiB", 0, "is not a size")
	f("1 PiB", 0, "is not a size")
	f("9999999TiB", 0, "too large")

	g := func(b ByteSize, want string) {
		t.Helper()
		if got := b.String(); got != want {
			t.Fatalf("ByteSize(%d).String() = %q; want %q", int64(b), got, want)
		}
	}
	g(64<<10, "64KiB")
	g(1<<30, "1GiB")
	g(1000, "1000")
	g(0, "0")
	g(1536, "1536") // 1.5 KiB has no whole binary unit
}

func TestParseCIDR(t *testing.T) {
	f := func(in, want, wantErr string) {
		t.Helper()
		got, err := ParseCIDR(in)
		if wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), wantErr) {
				t.Fatalf("ParseCIDR(%q) = %v, %v; want error containing %q", in, got, err, wantErr)
			}
			return
		}
		if err != nil || got.String() != want {
			t.Fatalf("ParseCIDR(%q) = %v, %v; want %s", in, got, err, want)
		}
	}
	f("10.0.0.0/8", "10.0.0.0/8", "")
	f("192.0.2.1", "192.0.2.1/32", "")
	f("::1", "::1/128", "")
	f("::ffff:192.0.2.1", "192.0.2.1/32", "") // mapped addresses are stored as IPv4
	f("2001:db8::/32", "2001:db8::/32", "")
	f("10.1.2.3/8", "", "did you mean 10.0.0.0/8?")
	f("::ffff:10.0.0.0/104", "", "IPv4-mapped")
	f("10.0.0.0/33", "", "is not a network")
	f("fe80::1%eth0", "", "is not a network")
	f("localhost", "", "is not a network")
}

func TestDidYouMean(t *testing.T) {
	f := func(in, want string) {
		t.Helper()
		if got := closest(in, []string{"listen", "admin", "read_timeout", "max_body_bytes", "data_dir"}); got != want {
			t.Fatalf("closest(%q) = %q; want %q", in, got, want)
		}
	}
	f("lisen", "listen")
	f("listne", "listen") // swapped neighbours
	f("Listen", "listen")
	f("readTimeout", "read_timeout")
	f("read-timeout", "read_timeout")
	f("max_body", "max_body_bytes") // prefix
	f("datadir", "data_dir")
	f("color", "")
	f("x", "")
	f("adm", "admin")
	f(strings.Repeat("a", 100), "")
}

func TestEnums(t *testing.T) {
	// Every enum prints its names, and the zero value of the privacy enums
	// is the strictest choice.
	if IPAction(0) != IPDrop || IDAction(0) != IDDrop || URLAction(0) != URLDrop || ReferrerAction(0) != ReferrerDrop ||
		UAAction(0) != UADrop || GeoLevel(0) != GeoNone || LanguageAction(0) != LanguageDrop ||
		PropertiesAction(0) != PropertiesDrop || BotAction(0) != BotsDrop || PseudonymMode(0) != PseudonymEphemeral {
		t.Fatal("a privacy enum's zero value is not its strictest choice")
	}
	f := func(s interface{ String() string }, want string) {
		t.Helper()
		if s.String() != want {
			t.Fatalf("String() = %q; want %q", s.String(), want)
		}
	}
	f(PurposePreciseGeo, "precise_geo")
	f(SignalConsentMode, "consent_mode")
	f(SASLScramSHA512, "scram-sha-512")
	f(ReferrerClean, "clean")
	f(IPAction(99), "invalid(99)")
	f(PolicyAds, "ads")
	if _, err := IPAction(99).MarshalText(); err == nil {
		t.Fatal("MarshalText of an invalid value succeeded")
	}
}
