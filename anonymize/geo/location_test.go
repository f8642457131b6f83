package geo

import (
	"encoding/json"
	"math"
	"testing"
)

func TestLevelString(t *testing.T) {
	f := func(l Level, s string) {
		t.Helper()
		if l.String() != s {
			t.Fatalf("%d.String() = %q; want %q", l, l.String(), s)
		}
		if l > City {
			if _, err := ParseLevel(s); err == nil {
				t.Fatalf("ParseLevel(%q) accepted", s)
			}
			return
		}
		got, err := ParseLevel(s)
		if err != nil || got != l {
			t.Fatalf("ParseLevel(%q) = %v, %v; want %v", s, got, err, l)
		}
	}
	f(None, "none")
	f(Continent, "continent")
	f(Country, "country")
	f(Region, "region")
	f(City, "city")
	f(Level(9), "Level(9)")

	for _, bad := range []string{"", "City", "town", "none "} {
		if _, err := ParseLevel(bad); err != ErrBadLevel {
			t.Fatalf("ParseLevel(%q) error = %v; want ErrBadLevel", bad, err)
		}
	}
}

func london() Location {
	return Location{
		Continent: [2]byte{'E', 'U'}, Country: [2]byte{'G', 'B'}, Region: [3]byte{'E', 'N', 'G'},
		City: "London", Latitude: 51.5142, Longitude: -0.0931, AccuracyRadius: 10, HasCoordinates: true,
	}
}

func TestAppendJSON(t *testing.T) {
	f := func(l Location, level Level, grid float64, want string) {
		t.Helper()
		got := l.AppendJSON([]byte("x"), level, grid)
		if string(got) != "x"+want {
			t.Fatalf("AppendJSON(%v, %v) = %s; want x%s", level, grid, got[1:], want)
		}
		if !json.Valid(got[1:]) {
			t.Fatalf("invalid JSON %s", got[1:])
		}
	}
	l := london()
	f(l, None, 0, `{}`)
	f(l, None, 1, `{}`) // no level, no coordinates either
	f(l, Continent, 0, `{"continent":"EU"}`)
	f(l, Country, 0, `{"continent":"EU","country":"GB"}`)
	f(l, Region, 0, `{"continent":"EU","country":"GB","region":"ENG"}`)
	f(l, City, 0, `{"continent":"EU","country":"GB","region":"ENG","city":"London"}`)
	f(l, City, 0.1, `{"continent":"EU","country":"GB","region":"ENG","city":"London","lat":51.5,"lon":-0.1}`)
	f(l, City, 0.01, `{"continent":"EU","country":"GB","region":"ENG","city":"London","lat":51.51,"lon":-0.09}`)
	f(l, Country, 1, `{"continent":"EU","country":"GB","lat":52,"lon":0}`) // -0 printed as 0
	f(l, Country, 0.25, `{"continent":"EU","country":"GB","lat":51.50,"lon":0.00}`)
	f(l, Country, 5, `{"continent":"EU","country":"GB","lat":50,"lon":0}`)
	f(l, Country, -1, `{"continent":"EU","country":"GB"}`)
	f(l, Country, math.NaN(), `{"continent":"EU","country":"GB"}`)
	f(l, Country, math.Inf(1), `{"continent":"EU","country":"GB"}`)
	f(l, Country, 1e-9, `{"continent":"EU","country":"GB","lat":51.514200,"lon":-0.093100}`) // precision capped at 6 decimals

	// math.Round is symmetric: negative values round away from zero at .5
	// and to the nearest grid point otherwise (PB's int(x*100+0.5) gets
	// -1.234 wrong).
	neg := Location{Latitude: -1.234, Longitude: -1.26, HasCoordinates: true}
	f(neg, Country, 0.01, `{"lat":-1.23,"lon":-1.26}`)
	f(neg, Country, 0.1, `{"lat":-1.2,"lon":-1.3}`)
	f(Location{Latitude: -33.8688, Longitude: 151.2093, HasCoordinates: true}, City, 0.5, `{"lat":-34.0,"lon":151.0}`)
	// A coarse grid cannot push coordinates out of range.
	f(Location{Latitude: 89.9, Longitude: -179.9, HasCoordinates: true}, City, 7, `{"lat":90,"lon":-180}`)
	// Coordinates absent: nothing even with a grid.
	f(Location{Country: [2]byte{'D', 'E'}}, City, 1, `{"country":"DE"}`)
	f(Location{}, City, 1, `{}`)
	// Region with one character.
	f(Location{Country: [2]byte{'S', 'E'}, Region: [3]byte{'E'}}, Region, 0, `{"country":"SE","region":"E"}`)
	// City names are escaped; invalid UTF-8 is replaced.
	f(Location{City: "Quote\"d\\City\x01\n"}, City, 0, `{"city":"Quote\"d\\City\u0001\u000a"}`)
	f(Location{City: "Linköping"}, City, 0, `{"city":"Linköping"}`)
	f(Location{City: "bad\xffutf8\xe2\x82"}, City, 0, `{"city":"bad\ufffdutf8\ufffd\ufffd"}`)
}

func TestGridDecimals(t *testing.T) {
	f := func(grid float64, want int) {
		t.Helper()
		if got := gridDecimals(grid); got != want {
			t.Fatalf("gridDecimals(%v) = %d; want %d", grid, got, want)
		}
	}
	f(10, 0)
	f(1, 0)
	f(0.5, 1)
	f(0.1, 1)
	f(0.25, 2)
	f(0.05, 2)
	f(0.01, 2)
	f(0.001, 3)
	f(1.0/3, 6)
}
