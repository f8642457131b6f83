package useragent

import (
	"encoding/json"
	"testing"
)

func FuzzParse(f *testing.F) {
	for _, c := range readCorpus(f) {
		f.Add([]byte(c.ua))
	}
	f.Add([]byte(""))
	f.Add([]byte("MSIE"))
	f.Add([]byte("Instagram"))
	f.Add([]byte("rv:"))
	f.Add([]byte("Chrome/99999999999999999999"))
	f.Add([]byte("cubot bot"))
	f.Fuzz(func(t *testing.T, ua []byte) {
		in := Parse(ua)
		if in.Browser > BrowserInstagram || in.OS > OSChromeOS || in.Device > DeviceBot || in.Bot > BotOtherTool {
			t.Fatalf("out of range: %+v", in)
		}
		if in.IsBot() != (in.Device == DeviceBot) {
			t.Fatalf("bot %v but device %v", in.Bot, in.Device)
		}
		if again := Parse(ua); again != in {
			t.Fatalf("not deterministic: %+v vs %+v", in, again)
		}
		out := in.AppendJSON(nil)
		if !json.Valid(out) {
			t.Fatalf("invalid JSON %s", out)
		}
		if !raceEnabled {
			buf := make([]byte, 0, 256)
			if n := testing.AllocsPerRun(5, func() { buf = Parse(ua).AppendJSON(buf[:0]) }); n != 0 {
				t.Fatalf("%q: %v allocs per Parse+AppendJSON; want 0", ua, n)
			}
		}
	})
}
