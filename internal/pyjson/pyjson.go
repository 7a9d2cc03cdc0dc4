// Package pyjson reads and writes JSON the way Python's json module does, so
// that what muster answers, signs, stores or hashes is byte for byte what
// Wazuh's Python code produces: strings with ensure_ascii escaping, floats
// in repr form, and values decoded as json.loads keeps them (Value), to be
// written back as json.dumps or repr would. It imports nothing of muster,
// so every layer may use it.
package pyjson

import (
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// AppendString appends s as a JSON string the way json.dumps does with
// ensure_ascii: printable ASCII as it is, the usual short escapes, and
// everything else (DEL and non-ASCII included) as \uXXXX with lower-case
// hex and surrogate pairs above U+FFFF. Invalid UTF-8 becomes \ufffd.
func AppendString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < 0x7f && c != '"' && c != '\\' {
			b = append(b, c)
			i++
			continue
		}
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		case '\b':
			b = append(b, '\\', 'b')
		case '\f':
			b = append(b, '\\', 'f')
		default:
			if c < utf8.RuneSelf {
				b = appendU(b, rune(c))
				break
			}
			r, n := utf8.DecodeRuneInString(s[i:])
			b = AppendEscapedRune(b, r)
			i += n
			continue
		}
		i++
	}
	return append(b, '"')
}

// AppendEscapedRune appends r as \uXXXX, or as a surrogate pair above U+FFFF.
func AppendEscapedRune(b []byte, r rune) []byte {
	if r > 0xFFFF {
		r -= 0x10000
		b = appendU(b, 0xD800+(r>>10))
		return appendU(b, 0xDC00+(r&0x3FF))
	}
	return appendU(b, r)
}

func appendU(b []byte, r rune) []byte {
	const hex = "0123456789abcdef"
	return append(b, '\\', 'u', hex[r>>12&0xF], hex[r>>8&0xF], hex[r>>4&0xF], hex[r&0xF])
}

// AppendFloat appends Python's repr of f: the shortest digits that round-trip,
// positional when the decimal exponent is in [-4, 16) and scientific
// otherwise ("1e+16", "1.5e-05"); infinities and NaN as json.dumps writes them.
func AppendFloat(b []byte, f float64) []byte {
	switch {
	case math.IsInf(f, 1):
		return append(b, "Infinity"...)
	case math.IsInf(f, -1):
		return append(b, "-Infinity"...)
	case math.IsNaN(f):
		return append(b, "NaN"...)
	}
	if math.Signbit(f) {
		b = append(b, '-')
		f = -f
	}
	mant, expText, _ := strings.Cut(strconv.FormatFloat(f, 'e', -1, 64), "e")
	exp, _ := strconv.Atoi(expText)
	digits := strings.Replace(mant, ".", "", 1)
	if exp < -4 || exp >= 16 {
		b = append(b, digits[0])
		if len(digits) > 1 {
			b = append(b, '.')
			b = append(b, digits[1:]...)
		}
		b = append(b, 'e')
		if exp < 0 {
			b = append(b, '-')
			exp = -exp
		} else {
			b = append(b, '+')
		}
		if exp < 10 {
			b = append(b, '0')
		}
		return strconv.AppendInt(b, int64(exp), 10)
	}
	switch {
	case exp < 0:
		b = append(b, "0."...)
		b = append(b, strings.Repeat("0", -exp-1)...)
		return append(b, digits...)
	case len(digits) <= exp+1:
		b = append(b, digits...)
		b = append(b, strings.Repeat("0", exp+1-len(digits))...)
		return append(b, ".0"...)
	}
	b = append(b, digits[:exp+1]...)
	b = append(b, '.')
	return append(b, digits[exp+1:]...)
}
