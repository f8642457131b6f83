package upstream

// jsonStringField returns the contents of the top-level string field name
// of the JSON object obj, between the quotes and with escapes left as they
// are (enough for a partitioning key), or nil when obj is not an object or
// has no such string field. It points into obj and never allocates or
// panics, whatever obj holds.
func jsonStringField(obj []byte, name string) []byte {
	start, end, ok := jsonStringFieldSpan(obj, name)
	if !ok {
		return nil
	}
	return obj[start:end:end]
}

// jsonStringFieldSpan is jsonStringField returning the value's position.
func jsonStringFieldSpan(obj []byte, name string) (start, end int, ok bool) {
	i := skipWS(obj, 0)
	if i >= len(obj) || obj[i] != '{' {
		return 0, 0, false
	}
	i++
	for {
		i = skipWS(obj, i)
		if i >= len(obj) || obj[i] != '"' {
			return 0, 0, false
		}
		ks, ke, next := scanString(obj, i)
		if next < 0 {
			return 0, 0, false
		}
		i = skipWS(obj, next)
		if i >= len(obj) || obj[i] != ':' {
			return 0, 0, false
		}
		i = skipWS(obj, i+1)
		if i >= len(obj) {
			return 0, 0, false
		}
		if obj[i] == '"' && string(obj[ks:ke]) == name {
			vs, ve, next := scanString(obj, i)
			return vs, ve, next >= 0
		}
		if i = skipValue(obj, i); i < 0 {
			return 0, 0, false
		}
		i = skipWS(obj, i)
		if i >= len(obj) || obj[i] != ',' {
			return 0, 0, false
		}
		i++
	}
}

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// scanString reads the string whose opening quote is at b[i]: its contents
// are b[start:end], and next is the index after the closing quote, or -1.
func scanString(b []byte, i int) (start, end, next int) {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return i + 1, j, j + 1
		}
	}
	return 0, 0, -1
}

// skipValue returns the index after the value starting at b[i], or -1.
func skipValue(b []byte, i int) int {
	switch b[i] {
	case '"':
		_, _, next := scanString(b, i)
		return next
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				_, _, next := scanString(b, j)
				if next < 0 {
					return -1
				}
				j = next - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return -1
	}
	j := i
	for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && b[j] != ' ' && b[j] != '\t' && b[j] != '\n' && b[j] != '\r' {
		j++
	}
	if j == i {
		return -1
	}
	return j
}

// consentState returns consent.state of the record obj, or nil.
func consentState(obj []byte) []byte {
	s, e, ok := jsonValueSpan(obj, "consent")
	if !ok {
		return nil
	}
	return jsonStringField(obj[s:e], "state")
}

// jsonValueSpan returns the position of the value, of any type, of the
// top-level field name of the JSON object obj.
func jsonValueSpan(obj []byte, name string) (start, end int, ok bool) {
	i := skipWS(obj, 0)
	if i >= len(obj) || obj[i] != '{' {
		return 0, 0, false
	}
	i++
	for {
		i = skipWS(obj, i)
		if i >= len(obj) || obj[i] != '"' {
			return 0, 0, false
		}
		ks, ke, next := scanString(obj, i)
		if next < 0 {
			return 0, 0, false
		}
		i = skipWS(obj, next)
		if i >= len(obj) || obj[i] != ':' {
			return 0, 0, false
		}
		i = skipWS(obj, i+1)
		if i >= len(obj) {
			return 0, 0, false
		}
		vs := i
		if i = skipValue(obj, i); i < 0 {
			return 0, 0, false
		}
		if string(obj[ks:ke]) == name {
			return vs, i, true
		}
		i = skipWS(obj, i)
		if i >= len(obj) || obj[i] != ',' {
			return 0, 0, false
		}
		i++
	}
}
