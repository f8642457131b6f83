package config

// The JSON Schema of the config's own types, for the generator of
// config.schema.json and docs/config.md (generate_test.go, go generate
// ./config). They live in a test file so that invopop/jsonschema, used for
// generation only, stays out of the production binary; the walker reads
// the enums' names through enumNames.

import (
	"encoding/json"

	"github.com/invopop/jsonschema"
)

// JSONSchema describes Purpose as a string enum.
func (x Purpose) JSONSchema() *jsonschema.Schema { return enumSchema(x.enumNames()) }

// JSONSchema describes Signal as a string enum.
func (x Signal) JSONSchema() *jsonschema.Schema { return enumSchema(x.enumNames()) }

// JSONSchema describes MergeRule as a string enum.
func (x MergeRule) JSONSchema() *jsonschema.Schema { return enumSchema(x.enumNames()) }

// JSONSchema describes GPPMode as a string enum.
func (x GPPMode) JSONSchema() *jsonschema.Schema { return enumSchema(x.enumNames()) }

// JSONSchema describes PseudonymMode as a string enum.
func (x PseudonymMode) JSONSchema() *jsonschema.Schema { return enumSchema(x.enumNames()) }

// JSONSchema describes LookupFrom as a string enum.
func (x LookupFrom) JSONSchema() *jsonschema.Schema { return enumSchema(x.enumNames()) }

// JSONSchema describes IPAction as a string enum.
func (x IPAction) JSONSchema() *jsonschema.Schema { return enumSchema(x.enumNames()) }

// JSONSchema describes GeoLevel as a string enum.
func (x GeoLevel) JSONSchema() *jsonschema.Schema { return enumSchema(x.enumNames()) }

// JSONSchema describes UAAction as a string enum.
func (x UAAction) JSONSchema() *jsonschema.Schema { return enumSchema(x.enumNames()) }

// JSONSchema describes BotAction as a string enum.
func (x BotAction) JSONSchema() *jsonschema.Schema { return enumSchema(x.enumNames()) }

// JSONSchema describes IDAction as a string enum.
func (x IDAction) JSONSchema() *jsonschema.Schema { return enumSchema(x.enumNames()) }

// JSONSchema describes URLAction as a string enum.
func (x URLAction) JSONSchema() *jsonschema.Schema { return enumSchema(x.enumNames()) }

// JSONSchema describes ReferrerAction as a string enum.
func (x ReferrerAction) JSONSchema() *jsonschema.Schema { return enumSchema(x.enumNames()) }

// JSONSchema describes LanguageAction as a string enum.
func (x LanguageAction) JSONSchema() *jsonschema.Schema { return enumSchema(x.enumNames()) }

// JSONSchema describes ContactAction as a string enum.
func (x ContactAction) JSONSchema() *jsonschema.Schema { return enumSchema(x.enumNames()) }

// JSONSchema describes ClickIDAction as a string enum.
func (x ClickIDAction) JSONSchema() *jsonschema.Schema { return enumSchema(x.enumNames()) }

// JSONSchema describes PropertiesAction as a string enum.
func (x PropertiesAction) JSONSchema() *jsonschema.Schema { return enumSchema(x.enumNames()) }

// JSONSchema describes DestinationType as a string enum.
func (x DestinationType) JSONSchema() *jsonschema.Schema { return enumSchema(x.enumNames()) }

// JSONSchema describes Compression as a string enum.
func (x Compression) JSONSchema() *jsonschema.Schema { return enumSchema(x.enumNames()) }

// JSONSchema describes KafkaKey as a string enum.
func (x KafkaKey) JSONSchema() *jsonschema.Schema { return enumSchema(x.enumNames()) }

// JSONSchema describes SASLMechanism as a string enum.
func (x SASLMechanism) JSONSchema() *jsonschema.Schema { return enumSchema(x.enumNames()) }

// JSONSchema describes Durability as a string enum.
func (x Durability) JSONSchema() *jsonschema.Schema { return enumSchema(x.enumNames()) }

// JSONSchema describes WhenFull as a string enum.
func (x WhenFull) JSONSchema() *jsonschema.Schema { return enumSchema(x.enumNames()) }

// JSONSchema describes NATSSubjectBy as a string enum.
func (x NATSSubjectBy) JSONSchema() *jsonschema.Schema { return enumSchema(x.enumNames()) }

// JSONSchema describes BLEOutput as a string enum.
func (x BLEOutput) JSONSchema() *jsonschema.Schema { return enumSchema(x.enumNames()) }

func enumSchema(names []string) *jsonschema.Schema {
	e := make([]any, len(names))
	for i, n := range names {
		e[i] = n
	}
	return &jsonschema.Schema{Type: "string", Enum: e}
}

// JSONSchema describes Duration as a string pattern.
func (Duration) JSONSchema() *jsonschema.Schema {
	return &jsonschema.Schema{
		Type:    "string",
		Pattern: `^(([0-9]+(\.[0-9]*)?|\.[0-9]+)(ns|us|µs|ms|s|m|h))+$|^[0-9]+d$`,
	}
}

// JSONSchema describes ByteSize as an integer or a size string.
func (ByteSize) JSONSchema() *jsonschema.Schema {
	return &jsonschema.Schema{AnyOf: []*jsonschema.Schema{
		{Type: "integer", Minimum: jsonNumber("0")},
		{Type: "string", Pattern: `^ *[0-9]+ *(B|KB|kB|MB|GB|TB|KiB|MiB|GiB|TiB)? *$`},
	}}
}

// JSONSchema describes CIDR as a string.
func (CIDR) JSONSchema() *jsonschema.Schema {
	return &jsonschema.Schema{Type: "string", Pattern: `^[0-9A-Fa-f:.]+(/[0-9]{1,3})?$`}
}

// JSONSchema describes TCFPurpose as an integer 1..11.
func (TCFPurpose) JSONSchema() *jsonschema.Schema {
	return &jsonschema.Schema{Type: "integer", Minimum: jsonNumber("1"), Maximum: jsonNumber("11")}
}

// JSONSchema describes TCFFeature as an integer 1..2.
func (TCFFeature) JSONSchema() *jsonschema.Schema {
	return &jsonschema.Schema{Type: "integer", Minimum: jsonNumber("1"), Maximum: jsonNumber("2")}
}

func jsonNumber(s string) json.Number { return json.Number(s) }
