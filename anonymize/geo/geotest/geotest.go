// Package geotest builds small GeoIP2-City databases in MaxMind DB format for
// tests, with github.com/maxmind/mmdbwriter, so tests that need real
// databases pass on any machine. Only tests import it.
package geotest

import (
	"fmt"
	"net"
	"os"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

// Network is one network of a test database and what it locates to. Empty
// fields are left out of the record; HasCoordinates adds the location.
type Network struct {
	CIDR           string
	Continent      string
	Country        string
	Region         string
	City           string
	Lat, Lon       float64
	HasCoordinates bool
}

// WriteCityDB writes a GeoIP2-City database holding nets to path.
func WriteCityDB(path string, nets []Network) error {
	w, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: "GeoIP2-City", RecordSize: 28, IPVersion: 6, IncludeReservedNetworks: true})
	if err != nil {
		return err
	}
	for _, n := range nets {
		_, ipnet, err := net.ParseCIDR(n.CIDR)
		if err != nil {
			return fmt.Errorf("network %q: %w", n.CIDR, err)
		}
		rec := mmdbtype.Map{}
		if n.Continent != "" {
			rec["continent"] = mmdbtype.Map{"code": mmdbtype.String(n.Continent)}
		}
		if n.Country != "" {
			rec["country"] = mmdbtype.Map{"iso_code": mmdbtype.String(n.Country)}
		}
		if n.Region != "" {
			rec["subdivisions"] = mmdbtype.Slice{mmdbtype.Map{"iso_code": mmdbtype.String(n.Region)}}
		}
		if n.City != "" {
			rec["city"] = mmdbtype.Map{"names": mmdbtype.Map{"en": mmdbtype.String(n.City)}}
		}
		if n.HasCoordinates {
			rec["location"] = mmdbtype.Map{"latitude": mmdbtype.Float64(n.Lat), "longitude": mmdbtype.Float64(n.Lon), "accuracy_radius": mmdbtype.Uint16(10)}
		}
		if err := w.Insert(ipnet, rec); err != nil {
			return fmt.Errorf("network %q: %w", n.CIDR, err)
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := w.WriteTo(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
