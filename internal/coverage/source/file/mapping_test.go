package file

import (
	"slices"
	"testing"
	"time"
)

func TestTimeParser(t *testing.T) {
	day := time.Date(2025, 11, 27, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		format, in string
		want       time.Time
	}{
		{"", "2025-11-27T10:00:00Z", day},
		{"", "2025-11-27T11:00:00+01:00", day},
		{"", "2025-11-27T10:00:00.123Z", day.Add(123 * time.Millisecond)},
		{"", "2025-11-27T10:00:00", day},
		{"", "2025-11-27 10:00:00", day},
		{"", "2025-11-27 10:00:00.0000000", day},
		{"", "2025-11-27 10:00", day},
		{"", "2025-11-27", day.Add(-10 * time.Hour)},
		{"", "2025/11/27 10:00:00", day},
		{"", "11/27/2025 10:00:00 AM", day},
		{"", "11/27/2025 10:00", day},
		{"", "11/27/2025", day.Add(-10 * time.Hour)},
		{"", "Thu, 27 Nov 2025 10:00:00 GMT", day},
		{"", "1764237600", day},
		{"", "1764237600000", day},
		{"", "1764237600.5", day.Add(500 * time.Millisecond)},
		{"", "never", time.Time{}},
		{"", "0", time.Time{}},
		{"", "0001-01-01T00:00:00Z", time.Time{}},
		{"unix", "1764237600", day},
		{"unix_ms", "1764237600000", day},
		{"02.01.2006 15:04", "27.11.2025 10:00", day},
	} {
		got, err := newTimeParser(tc.format).parse(tc.in)
		if err != nil || !got.Equal(tc.want) || got.Location() != time.UTC {
			t.Errorf("%q %q: %v, %v; want %v", tc.format, tc.in, got, err, tc.want)
		}
	}
	for _, tc := range []struct{ format, in string }{
		{"", "yesterday"}, {"", "27.11.2025"}, {"", "123456789012345678"}, {"unix", "abc"}, {"unix", "-5"}, {"2006-01-02", "11/27/2025"},
	} {
		if got, err := newTimeParser(tc.format).parse(tc.in); err == nil {
			t.Errorf("%q %q: %v, no error", tc.format, tc.in, got)
		}
	}
}

func TestSplit(t *testing.T) {
	for _, tc := range []struct {
		in     string
		spaces bool
		want   []string
	}{
		{"a", true, []string{"a"}},
		{" a , b;c|d  e\nf ", true, []string{"a", "b", "c", "d", "e", "f"}},
		{"Web Servers| prod ;", false, []string{"Web Servers", "prod"}},
		{",,; |", true, nil},
	} {
		if got := appendSplit(nil, tc.in, tc.spaces); !slices.Equal(got, tc.want) {
			t.Errorf("%q: %q; want %q", tc.in, got, tc.want)
		}
	}
}

func TestStripPrefixLen(t *testing.T) {
	got := stripPrefixLen([]string{"10.1.0.5/24", "2001:db8::1/64", "10.0.0.1", "x/y"})
	if want := []string{"10.1.0.5", "2001:db8::1", "10.0.0.1", "x/y"}; !slices.Equal(got, want) {
		t.Errorf("%q; want %q", got, want)
	}
}
