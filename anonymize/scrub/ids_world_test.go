package scrub

import (
	"strings"
	"testing"
)

// The Brazilian CPF (asked for at every Brazilian checkout) and the Swiss
// AHV number carry check digits and were kept whole in text, URLs and
// properties.
func TestCPFAndAHV(t *testing.T) {
	f := func(in, want, wantFound string) { t.Helper(); checkText(t, in, want, wantFound) }
	f("CPF 529.982.247-25, nota fiscal", "CPF [id], nota fiscal", "national_id")
	f("cpf: 529982247-25", "cpf: [id]", "national_id")
	f("AHV-Nr. 756.1234.5678.97", "AHV-Nr. [id]", "national_id")
	f("AVS 7561234567897", "AVS [id]", "national_id")
	// A check digit that does not hold, other shapes and numbers that
	// only look alike stay.
	f("529.982.247-26 756.1234.5678.96 7561234567896", "529.982.247-26 756.1234.5678.96 7561234567896", "none")
	f("52998224725 order 529.98.2247-25 v1.2.3-4 1.234.567,89", "52998224725 order 529.98.2247-25 v1.2.3-4 1.234.567,89", "none")
	f("111.111.111-11", "111.111.111-11", "none")

	got, found := defaultCleaner.AppendURL(nil, []byte("https://loja.example/checkout?cpf=52998224725&step=2"), URLClean)
	if string(got) != "https://loja.example/checkout?step=2" || found.String() != "param" {
		t.Fatalf("cpf parameter: got %q %s", got, found)
	}
}

// The Chinese resident identity number (18 characters: region, birth
// date, sequence, a check digit or X) was kept whole.
func TestChinaResidentID(t *testing.T) {
	f := func(in, want, wantFound string) { t.Helper(); checkText(t, in, want, wantFound) }
	f("身份证号11010519491231002X。", "身份证号[id]。", "national_id")
	f("id 11010519491231002x ok", "id [id] ok", "national_id")
	// A check that fails, a date that is none, a birth year before 1900,
	// a number that goes on as a word: kept.
	f("110105194912310021 110105194913310028 440524188001010014 11010519491231002XY",
		"110105194912310021 110105194913310028 440524188001010014 11010519491231002XY", "none")
}

// The Swedish personnummer (which Klarna asks for at checkout) and the
// Finnish personal identity code were kept whole.
func TestNordicIDs(t *testing.T) {
	f := func(in, want, wantFound string) { t.Helper(); checkText(t, in, want, wantFound) }
	f("personnummer 811228-9874, tack", "personnummer [id], tack", "national_id")
	f("pnr: 19811228-9874", "pnr: [id]", "national_id")
	f("samordningsnummer 811288-9871", "samordningsnummer [id]", "national_id")
	f("henkilötunnus 131052-308T.", "henkilötunnus [id].", "national_id")
	f("hetu 010100A123D", "hetu [id]", "national_id")
	// A check that fails, a date that is none, no dash, a code that goes
	// on as a word: kept.
	f("811228-9873 811328-9871 8112289874 131052-308U 131052-308TX 2019-2024",
		"811228-9873 811328-9871 8112289874 131052-308U 131052-308TX 2019-2024", "none")
}

// iOS, Samsung and Google name a device after its owner with the owner
// last in most languages but English: "iPhone de Marie" in French,
// Spanish and Portuguese, "iPhone von Jana", "iPhone di Giulia". Only
// "Jane's iPhone" was found.
func TestDeviceNamedAfterItsOwnerLast(t *testing.T) {
	f := func(in, want, wantFound string) { t.Helper(); checkText(t, in, want, wantFound) }
	f("connecté à iPhone de Marie", "connecté à [device]", "device_name")
	f("iPhone von Jana, iPad di Giulia, MacBook Pro van Jan", "[device], [device], [device]", "device_name")
	f("Galaxy S23 de Marie-Claire Dupont.", "[device].", "device_name")
	f("Apple Watch från Anna; AirPods de Lucía", "[device]; [device]", "device_name")
	f("iPhone użytkownika Jan", "[device]", "device_name")
	// No capitalised owner, a maker for an owner, no owner word: kept.
	f("iPhone de mon frère, Pixel de Google, iPhone 15 Pro, Pixel Art de Paris, iPhone de",
		"iPhone de mon frère, Pixel de Google, iPhone 15 Pro, Pixel Art de Paris, iPhone de", "none")
}

// Phone fields and messaging APIs store E.164 numbers without their '+';
// only eight European countries' mobiles were read so.
func TestBareInternationalMobiles(t *testing.T) {
	for _, in := range []string{"12125550199", "5511912345678", "919876543210", "61412345678", "48512345678",
		"46701234567", "5215512345678", "32470123456", "353871234567", "351912345678", "306912345678", "420601123456"} {
		got, found := defaultCleaner.AppendText(nil, []byte("tel "+in))
		if string(got) != "tel [phone]" || found.String() != "phone" {
			t.Errorf("AppendText(%q) = %q %s; want [phone]", in, got, found)
		}
	}
	// Not in a User-Agent header, where apps put build numbers: only
	// the first eight countries' rules apply there.
	for in, want := range map[string]string{
		"MyApp/12125550199 (iPhone; iOS 17.0)": "MyApp/12125550199 (iPhone; iOS 17.0)",
		"MyApp/919876543210":                   "MyApp/919876543210",
		"MyApp/4915112345678":                  "MyApp/[phone]",
	} {
		if got, _ := defaultCleaner.AppendUserAgent(nil, []byte(in)); string(got) != want {
			t.Errorf("AppendUserAgent(%q) = %q; want %q", in, got, want)
		}
	}
	// Other lengths, NANP codes that start with 0 or 1, Unix times stay.
	for _, in := range []string{"1212555019", "121255501990", "17000000000", "10000000001", "1700000000", "91987654321", "551191234567", "48412345678"} {
		if got, found := defaultCleaner.AppendText(nil, []byte("n "+in)); string(got) != "n "+in {
			t.Errorf("AppendText(%q) = %q %s; want it kept", in, got, found)
		}
	}
}

// A build or backup stamp "YYYYMMDD-HHMM" or "YYMMDD-HHMM" has a
// personnummer's shape, and one in ten passes its Luhn check: "release
// 20240103-2210", "?build=240103-2210" lost the stamp (and a page URL the
// whole parameter). A date from 2010 on whose last four digits read as a
// time of day is a stamp; the numbers of everyone born before 2010, and of
// those born since whose last four are no time, stay ids. Likewise a
// henkilötunnus's shape "DDMMYY-NNNC": one in 31 stamps passes its check.
func TestPersonnummerNotATimestamp(t *testing.T) {
	for _, in := range []string{"release 20240103-2210", "build 240103-2210", "/backups/20240103-2210.tar.gz", "lot 240101-0000",
		"build 240101-1402"} { // the last: a henkilötunnus's shape too
		if got, found := defaultCleaner.AppendText(nil, []byte(in)); string(got) != in {
			t.Errorf("AppendText(%q) = %q %s; want it kept", in, got, found)
		}
	}
	u := "https://shop.example/s?build=20240103-2210&page=2"
	if got, found := defaultCleaner.AppendURL(nil, []byte(u), URLClean); string(got) != u {
		t.Errorf("AppendURL(%q) = %q %s; want it kept", u, got, found)
	}
	if got, found := defaultCleaner.AppendUserAgent(nil, []byte("okhttp/4.9.0 build 20240103-2210")); found != 0 {
		t.Errorf("AppendUserAgent: %q %s; want it kept", got, found)
	}
	// Still ids: born before 2010 whatever the last four, born since with
	// last four that are no time.
	for _, in := range []string{"811228-9874", "19811228-9874", "050612-" + luhnComplete("050612127")[6:], "20120615-" + luhnComplete("120615987")[6:],
		"131052-308T", "010100A123D"} {
		if got, found := defaultCleaner.AppendText(nil, []byte("pnr "+in)); string(got) != "pnr [id]" {
			t.Errorf("AppendText(%q) = %q %s; want pnr [id]", "pnr "+in, got, found)
		}
	}
}

// A product title or an offer names a device, then "de" and a capitalised
// word that is no owner: "Funda iPhone de Silicona", "Oferta iPhone 15 de
// Movistar", "Le Pixel de Vermeer" lost the product (f12e968). A device
// word after a capitalised word other than a maker's (a title's words) is
// no device's name, nor is a carrier an owner; a name after a maker or
// after the end of another device's name still is.
func TestDeviceOwnerLastNotAProductTitle(t *testing.T) {
	for _, in := range []string{"Funda iPhone de Silicona", "Coque iPhone de Luxe", "Oferta iPhone 15 de Movistar",
		"Le Pixel de Vermeer", "iPhone de Orange", "Galaxy S24 de Vodafone", "Ofertas iPad de Verizon", "Carcasa iPad Pro de Cuero"} {
		if got, found := defaultCleaner.AppendText(nil, []byte(in)); string(got) != in {
			t.Errorf("AppendText(%q) = %q %s; want it kept", in, got, found)
		}
	}
	for in, want := range map[string]string{
		"Samsung Galaxy S23 de Marie":               "Samsung [device]",
		"MacBook Pro de Jean iPhone de Marie":       "[device] [device]",
		"connecté à iPhone de Marie":                "connecté à [device]",
		"el iPhone de Juan, Bluetooth: iPad de Ana": "el [device], Bluetooth: [device]",
	} {
		if got, _ := defaultCleaner.AppendText(nil, []byte(in)); string(got) != want {
			t.Errorf("AppendText(%q) = %q; want %q", in, got, want)
		}
	}
}

// The owner word of a device named after its owner is written in lower
// case ("iPhone de Marie", "iPhone von Jana"); capitalised, it is a
// title's word: "How to use iPhone Do Not Disturb" (help pages and
// searches by the thousand), "iPad Da Vinci Resolve", "iPhone Van Gogh
// Case" lost the phrase (f12e968).
func TestDeviceOwnerWordIsLowercase(t *testing.T) {
	for _, in := range []string{"How to use iPhone Do Not Disturb", "Galaxy Do Not Disturb mode",
		"iPad Da Vinci Resolve", "iPhone Van Gogh Case", "iPhone De Luxe Edition"} {
		if got, found := defaultCleaner.AppendText(nil, []byte(in)); string(got) != in {
			t.Errorf("AppendText(%q) = %q %s; want it kept", in, got, found)
		}
	}
	in, want := "iPhone de Marie, MacBook Pro van Jan", "[device], [device]"
	if got, _ := defaultCleaner.AppendText(nil, []byte(in)); string(got) != want {
		t.Errorf("AppendText(%q) = %q; want %q", in, got, want)
	}
}

// hasOwnerWord reads eight bytes at a time: every owner word at every
// offset and length is found, a longer word is not, and a space at any
// place of any short text reads nothing out of range.
func TestHasOwnerWordEveryPosition(t *testing.T) {
	for _, w := range ownerWords {
		for pre := 0; pre < 12; pre++ {
			for post := 0; post < 3; post++ {
				x := strings.Repeat("x", pre)
				if in := x + " " + w + " M" + strings.Repeat("x", post); !hasOwnerWord([]byte(in)) {
					t.Fatalf("hasOwnerWord(%q) = false", in)
				}
				if in := x + " " + w + "x M" + strings.Repeat("x", post); hasOwnerWord([]byte(in)) {
					t.Fatalf("hasOwnerWord(%q) = true", in)
				}
			}
		}
	}
	for n := 0; n < 24; n++ {
		for sp := 0; sp < n; sp++ {
			b := []byte(strings.Repeat("d", n))
			b[sp] = ' '
			hasOwnerWord(b)
		}
	}
}

// checkText fails t unless AppendText turns in into want, finding
// wantFound.
func checkText(t *testing.T, in, want, wantFound string) {
	t.Helper()
	got, found := defaultCleaner.AppendText(nil, []byte(in))
	if string(got) != want || found.String() != wantFound {
		t.Fatalf("AppendText(%q)\n got %q %s\nwant %q %s", in, got, found, want, wantFound)
	}
}
