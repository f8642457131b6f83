package wiring

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/beacongate/beacongate/config"
)

// appliedOnReload lists the settings a reload applies to the running
// gateway: the policy (compiled into a new plan and engine), the GeoIP
// database, the per-request limits, and the documentation that only the
// report reads. Every other setting applies at the next start: listeners,
// server timeouts and connection limits (fasthttp's server cannot change
// them while it serves), the data directory, pseudonym keys, the spool,
// destinations' transport and batching, BLE aggregation, retention, the
// audit log and the key store. A "[*]" stands for any index.
var appliedOnReload = []string{
	"sites", "properties", "scan", "consent", "policies", "geoip",
	// server.max_body_bytes is not here: fasthttp's server takes its
	// body limit once, at start; a larger value would be reported applied
	// while the server still refused such bodies.
	"server.max_events_per_request", "server.max_sightings_per_request",
	"server.max_sighting_age", "server.max_sighting_ahead", "server.trusted_proxies",
	"server.client_ip_header", "server.max_requests_per_client",
	"destinations[*].requires", "destinations[*].tcf", "destinations[*].policies",
	"ble.optout_file", "ble.optout_key_file",
	"privacy.controller", "privacy.legal_basis", "privacy.recipients",
}

// Reload says what a reload from the running config to the next one does.
type Reload struct {
	// Applied are the changed settings the reload applies, as config keys
	// ("policies.ads.url").
	Applied []string
	// NeedRestart are the changed settings that apply only at the next
	// start; the running values stay in force until then.
	NeedRestart []string
}

// PrepareReload compares next with the running config and returns what
// changed, each key either applied or needing a restart. It sets every
// restart-only setting of next back to its running value, so next then
// describes exactly what runs (its plan's version names the policy in
// force). A reload that adds, removes, renames or reorders destinations
// is refused: the spool routes by destination position, so that needs a
// restart with the new list; the running config stays live. So is one that
// changes a destination's type: its sink runs until the restart, while its
// requires, tcf and policies, which apply on reload, were checked for the
// new type (a meta_capi destination must require ads; contact: hash is for
// ad platforms only).
func PrepareReload(running, next *config.Config) (Reload, error) {
	if a, b := destinationNames(running), destinationNames(next); !slices.Equal(a, b) {
		return Reload{}, fmt.Errorf("destinations: the list changed (running [%s], new [%s]); adding, removing, renaming or reordering destinations needs a restart",
			strings.Join(a, " "), strings.Join(b, " "))
	}
	for i := range next.Destinations {
		if a, b := running.Destinations[i].Type, next.Destinations[i].Type; a != b {
			return Reload{}, fmt.Errorf("destinations[%d].type: changed (running %s, new %s); changing a destination's type needs a restart, "+
				"and what is spooled for it then goes to the new type: let it catch up first, or add the new type under a new name", i, a, b)
		}
	}
	var r Reload
	walk(reflect.ValueOf(running).Elem(), reflect.ValueOf(next).Elem(), "", func(key string, old, cur reflect.Value) {
		if appliesOnReload(key) {
			r.Applied = append(r.Applied, key)
			return
		}
		r.NeedRestart = append(r.NeedRestart, key)
		cur.Set(old)
	})
	// With ble.output: aggregates, lateness plus max_sighting_ahead must
	// stay within two intervals (config validation), or sightings of
	// intervals the aggregation cannot open are acknowledged and dropped
	// as late. The new file was checked with its own interval and
	// lateness, which wait for the restart: a window too wide for the
	// running ones waits with them.
	if b, s := &next.BLE, &next.Server; b.Output == config.BLEOutputAggregates && s.MaxSightingAhead != running.Server.MaxSightingAhead &&
		b.Lateness.D()+s.MaxSightingAhead.D() > 2*b.Interval.D() {
		s.MaxSightingAhead = running.Server.MaxSightingAhead
		const key = "server.max_sighting_ahead"
		r.Applied = slices.DeleteFunc(r.Applied, func(k string) bool { return k == key })
		r.NeedRestart = append(r.NeedRestart, key)
	}
	return r, nil
}

func destinationNames(c *config.Config) []string {
	names := make([]string, len(c.Destinations))
	for i, d := range c.Destinations {
		names[i] = d.Name
	}
	return names
}

// appliesOnReload reports whether key is, or lies below, a setting of
// appliedOnReload.
func appliesOnReload(key string) bool {
	generic := indexPattern(key)
	for _, p := range appliedOnReload {
		if under(key, p) || under(generic, p) {
			return true
		}
	}
	return false
}

// under reports whether key is prefix or one of its sub-keys.
func under(key, prefix string) bool {
	return key == prefix || strings.HasPrefix(key, prefix+".") || strings.HasPrefix(key, prefix+"[")
}

// indexPattern replaces every list index in key with "*".
func indexPattern(key string) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(key, '[')
		if i < 0 {
			b.WriteString(key)
			return b.String()
		}
		j := strings.IndexByte(key[i:], ']')
		if j < 0 {
			b.WriteString(key)
			return b.String()
		}
		b.WriteString(key[:i])
		b.WriteString("[*]")
		key = key[i+j+1:]
	}
}

// walk calls changed for every setting that differs between old and cur,
// with its config key: the leaves of structs, whole lists when their
// lengths differ (else each element), whole maps. cur is settable.
func walk(old, cur reflect.Value, key string, changed func(key string, old, cur reflect.Value)) {
	switch cur.Kind() {
	case reflect.Struct:
		t := cur.Type()
		if t.PkgPath() != configPkg {
			// A value type of another package (netip.Prefix): compared whole.
			if !reflect.DeepEqual(old.Interface(), cur.Interface()) {
				changed(key, old, cur)
			}
			return
		}
		for i := range t.NumField() {
			if !t.Field(i).IsExported() {
				continue // bookkeeping, such as the source file's name
			}
			name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
			if name == "-" {
				continue
			}
			if name == "" {
				name = strings.ToLower(t.Field(i).Name)
			}
			sub := name
			if key != "" {
				sub = key + "." + name
			}
			walk(old.Field(i), cur.Field(i), sub, changed)
		}
	case reflect.Slice:
		if old.Len() != cur.Len() {
			changed(key, old, cur)
			return
		}
		for i := range cur.Len() {
			walk(old.Index(i), cur.Index(i), key+"["+strconv.Itoa(i)+"]", changed)
		}
	default:
		if !reflect.DeepEqual(old.Interface(), cur.Interface()) {
			changed(key, old, cur)
		}
	}
}

// configPkg is the import path of the config's types.
var configPkg = reflect.TypeFor[config.Config]().PkgPath()
