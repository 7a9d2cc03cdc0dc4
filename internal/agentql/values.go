package agentql

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// number is a numeric operand or value: an int64 when it is a whole number
// that fits, else a float64.
type number struct {
	isInt bool
	i     int64
	f     float64
}

func (n number) float() float64 {
	if n.isInt {
		return float64(n.i)
	}
	return n.f
}

// cmpNumber orders two numbers.
func cmpNumber(a, b number) int {
	if a.isInt && b.isInt {
		switch {
		case a.i < b.i:
			return -1
		case a.i > b.i:
			return 1
		}
		return 0
	}
	x, y := a.float(), b.float()
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

// parseNumber reads text the way SQLite converts it for an integer column:
// optional spaces and sign, digits with an optional fraction and exponent.
func parseNumber(s string) (number, bool) {
	s = strings.Trim(s, " ")
	body := strings.TrimLeft(s, "+-")
	if len(s)-len(body) > 1 || body == "" {
		return number{}, false
	}
	digits, frac, exp := 0, false, false
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch {
		case c >= '0' && c <= '9':
			digits++
		case c == '.' && !frac && !exp:
			frac = true
		case (c == 'e' || c == 'E') && !exp && digits > 0:
			exp = true
			if i+1 < len(body) && (body[i+1] == '+' || body[i+1] == '-') {
				i++
			}
			if i+1 >= len(body) {
				return number{}, false
			}
		default:
			return number{}, false
		}
	}
	if digits == 0 {
		return number{}, false
	}
	if !frac && !exp {
		if i, err := strconv.ParseInt(strings.TrimPrefix(s, "+"), 10, 64); err == nil {
			return number{isInt: true, i: i}, true
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && !math.IsInf(f, 0) {
		return number{}, false
	}
	return number{f: f}, true
}

func parseBool(s string) (bool, bool) {
	switch strings.ToLower(s) {
	case "true", "1":
		return true, true
	case "false", "0":
		return false, true
	}
	return false, false
}

// maxSecs bounds time frames so now-secs cannot overflow.
const maxSecs = int64(1) << 50

// startsTimeframe reports whether v begins like a time frame: digits then d, h, m or s.
func startsTimeframe(v string) bool {
	i := 0
	for i < len(v) && v[i] >= '0' && v[i] <= '9' {
		i++
	}
	return i > 0 && i < len(v) && strings.IndexByte("dhms", v[i]) >= 0
}

// parseTimeframe reads plain seconds or a sum of <digits><d|h|m|s> parts
// ("1d2h" = 93600). Unlike Wazuh, trailing text is refused, not ignored.
func parseTimeframe(v string) (int64, bool) {
	if isDigits(v) {
		return satMulAdd(0, v, 1), true
	}
	var total int64
	for v != "" {
		i := 0
		for i < len(v) && v[i] >= '0' && v[i] <= '9' {
			i++
		}
		if i == 0 || i == len(v) {
			return 0, false
		}
		var unit int64
		switch v[i] {
		case 'd':
			unit = 86400
		case 'h':
			unit = 3600
		case 'm':
			unit = 60
		case 's':
			unit = 1
		default:
			return 0, false
		}
		total = satMulAdd(total, v[:i], unit)
		v = v[i+1:]
	}
	return total, true
}

// satMulAdd returns acc + digits*unit, saturating at maxSecs.
func satMulAdd(acc int64, digits string, unit int64) int64 {
	n, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || n > maxSecs/unit {
		return maxSecs
	}
	if acc += n * unit; acc > maxSecs {
		return maxSecs
	}
	return acc
}

// parseDate reads YYYY-MM-DD with an optional time ([ T]HH:MM, :SS,
// .fraction) and an optional Z, in UTC, to epoch seconds (fraction dropped,
// as SQLite's strftime('%s', ...) does).
func parseDate(v string) (int64, bool) {
	num := func(s string) (int, bool) {
		if !isDigits(s) {
			return 0, false
		}
		n, err := strconv.Atoi(s)
		return n, err == nil
	}
	v = strings.TrimSuffix(v, "Z")
	if len(v) < 10 || v[4] != '-' || v[7] != '-' {
		return 0, false
	}
	y, ok1 := num(v[0:4])
	mo, ok2 := num(v[5:7])
	d, ok3 := num(v[8:10])
	if !ok1 || !ok2 || !ok3 || mo < 1 || mo > 12 || d < 1 || d > 31 {
		return 0, false
	}
	var h, mi, sec int
	if rest := v[10:]; rest != "" {
		if len(rest) < 6 || (rest[0] != ' ' && rest[0] != 'T') || rest[3] != ':' {
			return 0, false
		}
		var ok4, ok5 bool
		h, ok4 = num(rest[1:3])
		mi, ok5 = num(rest[4:6])
		if !ok4 || !ok5 || h > 23 || mi > 59 {
			return 0, false
		}
		if rest = rest[6:]; rest != "" {
			if len(rest) < 3 || rest[0] != ':' {
				return 0, false
			}
			var ok6 bool
			if sec, ok6 = num(rest[1:3]); !ok6 || sec > 59 {
				return 0, false
			}
			if rest = rest[3:]; rest != "" && (rest[0] != '.' || !isDigits(rest[1:])) {
				return 0, false
			}
		}
	}
	return time.Date(y, time.Month(mo), d, h, mi, sec, 0, time.UTC).Unix(), true
}
