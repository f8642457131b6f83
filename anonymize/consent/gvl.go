package consent

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strconv"
	"strings"
)

// MaxGVLSize is the largest Global Vendor List file ParseGVL accepts; the
// IAB's vendor-list.json is about 1.5 MB.
const MaxGVLSize = 16 << 20

// GVL is the part of an IAB Global Vendor List (vendor-list.json, version 2
// or 3 of the specification) that enforcement needs: each vendor's declared
// purposes and special features.
type GVL struct {
	Version int // vendorListVersion
	vendors map[int]Vendor
}

// Vendor returns the declarations of vendor id, and whether the list has
// it. Vendors the list marks deleted are absent.
func (g *GVL) Vendor(id int) (Vendor, bool) {
	if g == nil {
		return Vendor{}, false
	}
	v, ok := g.vendors[id]
	return v, ok
}

// Len returns the number of vendors in the list.
func (g *GVL) Len() int { return len(g.vendors) }

type gvlFile struct {
	VendorListVersion int                   `json:"vendorListVersion"`
	Vendors           map[string]*gvlVendor `json:"vendors"`
}

type gvlVendor struct {
	ID               int    `json:"id"`
	Purposes         []int  `json:"purposes"`
	LegIntPurposes   []int  `json:"legIntPurposes"`
	FlexiblePurposes []int  `json:"flexiblePurposes"`
	SpecialFeatures  []int  `json:"specialFeatures"`
	DeletedDate      string `json:"deletedDate"`
}

// ParseGVL decodes a Global Vendor List. Errors name the field at fault,
// never a value beyond the vendor id.
func ParseGVL(data []byte) (*GVL, error) {
	if len(data) > MaxGVLSize {
		return nil, fmt.Errorf("vendor list: larger than %d bytes", MaxGVLSize)
	}
	var f gvlFile
	if err := json.Unmarshal(data, &f); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, fmt.Errorf("vendor list: not JSON (offset %d)", se.Offset)
		}
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return nil, gvlTypeError(te)
		}
		return nil, errors.New("vendor list: not a vendor list")
	}
	if f.VendorListVersion < 1 {
		return nil, errors.New("vendor list: vendorListVersion missing or below 1")
	}
	if len(f.Vendors) == 0 {
		return nil, errors.New("vendor list: vendors missing or empty")
	}
	g := &GVL{Version: f.VendorListVersion, vendors: make(map[int]Vendor, len(f.Vendors))}
	for key, v := range f.Vendors {
		if v == nil {
			return nil, errors.New("vendor list: vendors: an entry is null")
		}
		id, err := strconv.Atoi(key)
		if err != nil || id < 1 || id > 65535 || id != v.ID {
			return nil, errors.New("vendor list: vendors: a key is not the vendor's id (1..65535)")
		}
		if v.DeletedDate != "" {
			continue
		}
		d := Vendor{ID: id}
		var bad string
		if d.Consent, bad = gvlMask(v.Purposes, 24, "purposes"); bad == "" {
			if d.LI, bad = gvlMask(v.LegIntPurposes, 24, "legIntPurposes"); bad == "" {
				if d.Flexible, bad = gvlMask(v.FlexiblePurposes, 24, "flexiblePurposes"); bad == "" {
					var sf uint32
					sf, bad = gvlMask(v.SpecialFeatures, 12, "specialFeatures")
					d.SpecialFeatures = uint16(sf)
				}
			}
		}
		if bad != "" {
			return nil, fmt.Errorf("vendor list: vendor %d: %s", id, bad)
		}
		if d.Consent&d.LI != 0 {
			return nil, fmt.Errorf("vendor list: vendor %d: a purpose is in both purposes and legIntPurposes", id)
		}
		if d.LI&1 != 0 {
			return nil, fmt.Errorf("vendor list: vendor %d: legIntPurposes lists purpose 1, which needs consent", id)
		}
		g.vendors[id] = d
	}
	return g, nil
}

// gvlTypeError names the field whose JSON type is wrong (vendors.purposes,
// the vendor's key left out) and what it holds, never the value itself.
func gvlTypeError(te *json.UnmarshalTypeError) error {
	field := te.Field
	if field == "" {
		field = "the top level"
	}
	got, _, _ := strings.Cut(te.Value, " ") // "number 1e99": the kind only
	want := "a value of another type"
	if te.Type != nil {
		switch te.Type.Kind() {
		case reflect.Int, reflect.Int64, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float64:
			want = "a whole number"
		case reflect.String:
			want = "a string"
		case reflect.Slice, reflect.Array:
			want = "a list"
		case reflect.Map, reflect.Struct, reflect.Pointer:
			want = "an object"
		}
	}
	return fmt.Errorf("vendor list: %s: %s where %s is wanted", field, got, want)
}

// gvlMask turns a list of ids 1..n into a mask, or names the field when an
// id is out of range.
func gvlMask(ids []int, n int, field string) (uint32, string) {
	var m uint32
	for _, id := range ids {
		if id < 1 || id > n {
			return 0, field + ": an id is outside 1.." + strconv.Itoa(n)
		}
		m |= 1 << uint(id-1)
	}
	return m, ""
}

// LoadGVL reads and parses the vendor list file at path.
func LoadGVL(path string) (*GVL, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxGVLSize+1))
	if err != nil {
		return nil, err
	}
	return ParseGVL(data)
}
