// Package scrub removes personal data from page URLs, referrers and free
// text (custom property values) before an event leaves the process.
//
// It is byte-level code for the request hot path: no regexp, no fmt, and no
// allocation once the caller's output buffer has grown to its working size.
// A [Cleaner] is compiled once from [Options] by [New] and is then read-only,
// so one Cleaner may be used by any number of goroutines.
//
// # What counts as personal data
//
// A value is scanned for the kinds below. Percent-escapes are decoded first
// (up to eight nested rounds, so "a%2540b.com" inside a redirect parameter is
// still "a@b.com"; a value still escaped after that is a token: fail
// closed). Full-width forms (U+FF01..U+FF5E, as input methods for Japanese,
// Chinese and Korean type digits, letters and signs), Arabic-Indic,
// Persian and Devanagari digits, the ideographic space, the ideographic
// full stop U+3002 (and U+FF61, U+FE52; U+FE6B as '@') and the dashes
// U+2010..U+2015, U+2212 and U+30FC are read as their ASCII counterparts
// (see wide.go), and so are the HTML character references for '@' and '.'
// ("jane.doe&#64;example.org", "&#x40;", "&commat;", "&#46;", "&period;");
// a URL that holds such an address as sent, split by the reference's '&'
// or '#' ("/u/jane.doe&#64;example.org/orders"), keeps its origin only in
// [URLClean] mode.
// Characters that show nothing, control characters other
// than white space (U+0000..U+0008, U+000E..U+001F, U+007F) and U+200B..U+200D,
// U+2060, U+FEFF, are read both ways: as they are, and left out
// ("jane.doe\x00@example.org" is an address). In query and fragment parameters a '+' is read both
// ways, literally ("tel=+4915112345678" from a script) and as a space (an
// HTML form's "c=4111+1111+1111+1111"); in paths and text it is literal.
//
//   - [KindEmail]: local part of [A-Za-z0-9._+-] or non-ASCII bytes, its
//     runs also joined by the other signs RFC 5322 allows there but '/',
//     '=', '?', '|', '#', brackets and quotes ("sean.o'connor", "tom&jerry",
//     "user%host"; a sign before the address stays) or a quoted string
//     on one line of at most 64 bytes ("\"jane doe\"@example.org"), '@', at
//     least two domain labels of [A-Za-z0-9-] or non-ASCII bytes, and a last
//     label (TLD) of two or more letters (or "xn--..."), or an address
//     literal ("jane@[192.0.2.1]", "[IPv6:2001:db8::1]") or a bare IPv4
//     address after the '@'. A last label that
//     starts with two letters and goes on ("a@b.com1", "a@b.org-x") ends the
//     address after its letters, so glued text cannot hide it.
//     "@handle", "user@localhost" and "a@b" are not addresses. A run of 12
//     to 128 base64 or base64url characters that decodes to text holding an
//     address is an address too. So is an address written to dodge
//     harvesters (obfusc.go), replaced whole: an at sign written "(at)",
//     "[at]", "{at}", "<at>" (or "(@)", "[@]", ...; any case, blanks
//     around and inside allowed: spaces, tabs, or '+' as form encoding
//     writes a space) or " @ ", and dots written "(dot)",
//     "[dot]", "{dot}", "<dot>", "(.)", "[.]" or " dot ", in the domain and
//     in the local part ("jane.doe [at] example [dot] org", "jane dot doe
//     (at) example (dot) co (dot) uk"), and between brackets also the word
//     for "dot" in German, Nordic, French, Spanish, Italian, Portuguese,
//     Dutch and Polish ("[punkt]", "(point)", "(punto)", "(ponto)",
//     "(punt)", "(kropka)": "info [at] example [punkt] de"). The plain word " at " counts only
//     before a written-out dot ("look at example.com" is prose), and when
//     every dot is the plain word " dot ", only after a local part with a
//     '.', '_', '+', '-', digit or written-out dot in it and before a
//     well-known top-level domain ("jane.doe at example dot org" is an
//     address; "visit us at example dot com", "worked at a dot com" and
//     "at home dot matrix" are prose).
//   - [KindCard]: 13 to 19 digits, optionally grouped by spaces (one or
//     two), dashes (also " - "), dots, '+' (form encoding) or underscores
//     (no other kind of number is read across '_'), not all digits the same,
//     with the length and issuer prefix of a card network (Visa 4 with 16
//     or 19 digits, Mastercard 51-55 and 2221-2720, Amex 34/37, Diners,
//     JCB 3528-3589, Discover/UnionPay/Maestro 6, 50, 56-58, Mir), and the
//     Luhn check passes. A leading '+' or "(...)" means phone, never card.
//     Luhn-valid product codes and EAN-13 barcodes outside these ranges
//     are kept.
//   - [KindIBAN]: two letters, two check digits (02..98), then BBAN characters,
//     15 to 34 characters in all, compact or in groups of four separated by
//     single spaces (or '+'), any case; the ISO 13616 mod-97 check must give 1.
//   - [KindPhone]: 7 to 15 digits (E.164 has at most 15), not all the same,
//     in groups separated by single ' ', '-', '/', '+' or ')'/'(' (or by '.'
//     only; after the first group also " / ", as German letterheads set off
//     the area code: "0151 / 1234 5678"; " - " as '-' between any groups,
//     "0151 - 1234 5678"), and one of:
//     a leading '+';
//     a leading "00" international prefix followed by a non-zero digit (9+ digits);
//     a national trunk prefix: leading '0' then a non-zero digit, 9 to 13 digits
//     (dot-separated numbers qualify this way, with groups of 2+ digits, or
//     as a North American number, "555.867.5309": groups of 3, 3 and 4
//     digits, area code and exchange starting with 2..9);
//     a leading "(" closed after the first group ("(555) 123-4567");
//     3 or 4 groups of at most 4 digits whose last group has exactly 4 ("555-123-4567");
//     a Spanish number as written nationally, without a trunk prefix: 9
//     digits starting with 6..9 in groups of 3-2-2-2 or 2-3-2-2 ("612 34
//     56 78", "91 123 45 67");
//     a Russian (Belarusian, Kazakh) number with its trunk prefix 8, 11
//     digits in groups of 1-3-3-2-2, the code after the 8 starting with 3,
//     4, 8 or 9 ("8-912-345-67-89", "8 495 123 45 67");
//     an Indian mobile as written nationally, 10 digits starting with 6..9
//     in two groups of five ("98765 43210");
//     11 to 13 bare digits that start with a country code and a mobile
//     prefix, each country's exact length ("4915112345678": DE, UK, FR, ES,
//     IT, NL, AT, CH, BE, IE, PT, GR, PL, CZ, SE, BR, MX, IN, AU; and NANP,
//     "12125550199": 1, an area code and an exchange starting with 2..9).
//     After a '+', separators may mix ("+1 555.123.4567").
//     Never a phone: dates and year ranges (2 or 3 groups of 1, 2 or 4 digits
//     with a 4-digit group in 1900..2099: "2024-01-15", "15/01/2024",
//     "2019-2024"; a run that starts with a date is not a phone, the scan
//     retries after it), decimals and thousands ("1.234.567", "19.99 29.99"),
//     plain digit strings without '+' or leading 0 (order numbers, Unix
//     times: "1700000000"), numbers glued to a word ("INV-2024-000123",
//     "order1234567") and anything shorter than 7 digits (prices, years).
//     A number is read at most 32 bytes far, and its longest prefix (ending
//     at a group) that is a card or phone is taken.
//   - [KindToken]: a run of [A-Za-z0-9_-] that is, or holds,
//     a UUID (8-4-4-4-12 hex; identifiers of single objects such as users,
//     sessions or orders, which the gateway cannot tell apart; turn off
//     with Options.KeepUUIDs);
//     a chunk (between '-' or '_') of 16+ hex characters with both digits
//     and letters (session ids, hashes, trace ids);
//     or, in a run of 24+ characters, a chunk of 12+ characters with at
//     least two digits and two letters (API keys, JWT parts, base64url
//     tokens, click identifiers under other names). Slugs such as
//     "top-10-products-for-summer-2024" have short chunks and are kept;
//     long unbroken alphanumeric product codes may be replaced (fail closed);
//     or a chunk of 20+ letters (at most two digits) in random case (two
//     upper-case pairs, four case changes), or of 32+ letters in any case
//     (reset tokens made only of letters);
//     or a run of 22+ base64 or base64url characters (with '+' and '/'
//     too) that reads as random bytes (a hashed e-mail address or a session
//     id in base64: upper case, lower case and digits change at half the
//     places or more, with digits inside and upper-case pairs; see
//     base64Token). The token rule does not apply to
//     the values of utm_campaign, utm_id, utm_source and utm_medium, which
//     name campaigns. Also, in any value, an AWS access key id: "AKIA" or
//     "ASIA" and 16 characters of [A-Z2-7], a word of its own.
//   - [KindIP]: a dotted-quad IPv4 address (not after "Product/", where it
//     is a version) or an IPv6 address (eight groups, or fewer with "::").
//     A URL whose host is an IP literal is dropped whole, unless it is a
//     loopback address (127.x.x.x, [::1]), which names nobody.
//   - [KindMAC]: six hex pairs separated by ':' or '-', three hex quads
//     separated by '.' (with a letter), or 12 hex digits with letters and
//     at least two digits.
//   - [KindNationalID]: national ids with a check: DE Steuer-ID (11
//     digits, ISO 7064; compact or grouped as printed, "65 929 970 489",
//     or "65+929+970+489" as a form sends it),
//     ES DNI and NIE (check letter; also with thousands dots,
//     "12.345.678-Z", "X-1.234.567-L"), FR NIR (15 digits, key mod
//     97, spaces allowed), IT codice fiscale (check letter), NL BSN (9
//     digits, eleven test; not in a User-Agent header, see
//     [Cleaner.AppendUserAgent]), BR CPF (two check digits mod 11; as
//     printed, "529.982.247-25", or "529982247-25": eleven digits alone
//     are order numbers as often), CH AHV/AVS (756 and an EAN-13 check
//     digit; "756.1234.5678.97" or compact), the Chinese resident identity
//     number (GB 11643: 17 digits holding a birth date from 1900 on and a
//     check digit or 'X', ISO 7064 MOD 11-2), SE personnummer ("811228-9874",
//     "19811228-9874": a date, the day plus 60 for a coordination number,
//     and a Luhn check; not without its dash, nor a date from 2010 on
//     before a time of day, "20240103-2210", a build stamp), FI
//     henkilötunnus ("131052-308T": a date, the century sign, a check
//     character mod 31; a date before 1932 with the dash, then a time of
//     day, "240101-1402", is a stamp too),
//     and the UK NINO by its format (no check
//     exists; pairs separated by spaces or '+', "AB+12+34+56+C").
//   - [KindDevice]: a device named after its owner: a word (or two
//     capitalised ones, "Jane Doe's"), "'s" (or
//     "’s"), and a device word (iPhone, iPad, MacBook, Galaxy, Pixel, Apple
//     Watch, HomePod, Mac mini, ...)
//     with up to two short model words; or, as iOS, Samsung and Google name
//     devices in most other languages, a device word (iPhone, iPad, iPod,
//     iMac, MacBook, Apple Watch, AirPods, Galaxy, Pixel), its model, an
//     owner word in lower case ("de", "von", "di", "van", "från",
//     "użytkownika", ...; not "iPhone Do Not Disturb") and
//     one or two capitalised names ("iPhone de Marie", "Galaxy S23 von
//     Jana Schmidt"; not a maker or a carrier, "Pixel de Google", "iPhone
//     de Orange", nor after a capitalised word other than a maker's, a
//     title's, "Funda iPhone de Silicona").
//   - [KindCoordinates]: a latitude and a longitude in decimal degrees,
//     each with 4 to 15 decimals (0.0001 degree is about 11 m), one within
//     ±90 and the other within ±180 in either order (GeoJSON and WKT put
//     the longitude first), separated by a comma or a semicolon and at
//     most one space, or by one space, not glued to a word or another
//     digit ("52.520008,13.404954", "-33.8688, 151.2093", "[151.2093,
//     -33.8688]", "POINT(-118.243683 34.052235)", a map link's
//     "/@52.5162746,13.3755154,17z"). Also with decimal commas, both
//     alike, separated by a space, a semicolon or a comma and a space
//     ("52,520008 13,404954"), with a degree sign or a hemisphere letter
//     after each ("52.520008° N, 13.404954° E"), and with the second
//     one's name between ("lat 52.520008 lon 13.404954", "latitude:
//     52.520008, longitude: 13.404954", "lat=52.5200&lng=13.4049"): a
//     coordinate's name only (lat, lng, lon, long, latitude, longitude),
//     never any word. Two or three decimals (a city, a district), prices,
//     amounts with thousands separators and versions stay.
//
// # URLs
//
// [Cleaner.AppendURL] writes one of three forms ([URLMode]). Userinfo
// ("user:pass@") is always removed, scheme and host are lower-cased, and
// only http, https and scheme-relative ("//host") URLs keep more than their
// origin. In the path (and the route part of a fragment, "#/route"), a
// segment holding personal data is replaced by a marker such as "[email]",
// so "/users/a@b.com/orders" becomes "/users/[email]/orders". In the query
// and in fragment parameters, a parameter is removed entirely when its name is a click identifier, a sensitive name
// (see [Options]; also as the last key of a nested name, "user[password]",
// "checkout[email]", "email[]", "user.password"; and as the last words of
// a longer name, "billing-first-name", "confirmPassword", for the names of
// several words and the distinctive single words, see wholeNamesOnly) or,
// with Options.DropUTM, a utm_* name, or when its
// decoded "name=value" holds personal data. utm_* campaign parameters are
// kept by default and still scanned. Matrix parameters in a path segment
// (";jsessionid=...") are judged like query parameters. A fragment is a route and a parameter
// list when a '?' comes before any '=' ("#/r?a=b"), a parameter list when it
// has an '=' ("#access_token=...&state=..."), and a route otherwise
// ("#section-2", "#/users/1"); "x?gclid=1" inside a fragment list counts
// as gclid.
//
// Malformed input fails closed: opaque or unknown forms ("mailto:a@b.com",
// "javascript:...", "example.com/x", a bad host) produce nothing, and a
// control character or space after the host keeps the origin only; both
// report [KindMalformed].
//
// # Free text
//
// [Cleaner.AppendText] replaces each personal-data span with its marker and
// keeps the rest. Words (runs of non-space) that start with http:// or
// https://, possibly after up to four of ( < [ " ', are cleaned as URLs in
// [URLClean] mode; other words holding percent-escapes are decoded and, when
// they hold personal data, replaced whole by one marker. Markers replace
// spans in free text and whole segments in paths; a removed query or
// fragment parameter leaves nothing.
//
// Both functions return a [Found] bitset of the kinds removed, for metrics.
// Parts dropped wholesale by the mode (the query in [URLPath]) are not
// scanned and not reported. Cleaning is idempotent: cleaning the output
// again changes nothing (checked by the fuzz targets).
//
// Scans are linear in the input: every detector starts only at a word
// boundary and reads a bounded distance or a run it then skips.
package scrub
