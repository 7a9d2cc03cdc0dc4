package core

import (
	"testing"
)

// TestParseOSRelease pins Wazuh's get_unix_version rules on real os-release
// files: VERSION over VERSION_ID, its " (codename)" split off.
func TestParseOSRelease(t *testing.T) {
	s := Some[string]
	var none Null[string]
	cases := map[string]struct {
		file string
		want releaseOS
	}{
		"ubuntu 24.04.1": {`PRETTY_NAME="Ubuntu 24.04.1 LTS"
NAME="Ubuntu"
VERSION_ID="24.04"
VERSION="24.04.1 LTS (Noble Numbat)"
VERSION_CODENAME=noble
ID=ubuntu
ID_LIKE=debian
UBUNTU_CODENAME=noble
`, releaseOS{Name: s("Ubuntu"), Platform: s("ubuntu"), Version: s("24.04.1 LTS"), Codename: s("Noble Numbat"), Major: s("24"), Minor: s("04")}},
		"debian 12": {`PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
`, releaseOS{Name: s("Debian GNU/Linux"), Platform: s("debian"), Version: s("12"), Codename: s("bookworm"), Major: s("12"), Minor: none}},
		"rhel 9": {`NAME="Red Hat Enterprise Linux"
VERSION="9.4 (Plow)"
ID="rhel"
ID_LIKE="fedora"
VERSION_ID="9.4"
PLATFORM_ID="platform:el9"
`, releaseOS{Name: s("Red Hat Enterprise Linux"), Platform: s("rhel"), Version: s("9.4"), Codename: s("Plow"), Major: s("9"), Minor: s("4")}},
		"alpine (VERSION_ID only)": {`NAME="Alpine Linux"
ID=alpine
VERSION_ID=3.20.3
PRETTY_NAME="Alpine Linux v3.20"
`, releaseOS{Name: s("Alpine Linux"), Platform: s("alpine"), Version: s("3.20.3"), Major: s("3"), Minor: s("20")}},
		"no version lines": {`NAME="Some Linux"
ID=some
`, releaseOS{Name: s("Some Linux"), Platform: s("some"), Version: s("0.0")}},
		"arch": {`NAME="Arch Linux"
ID=arch
BUILD_ID=rolling
VERSION_ID=20240101
`, releaseOS{Name: s("Arch Linux"), Platform: s("arch"), Version: s("")}},
		"first lines win, VERSION after VERSION_ID": {`NAME=First
NAME=Second
ID=one two
VERSION_ID=1.2
VERSION="7.8.9 (Later)"
VERSION="5"
`, releaseOS{Name: s("First"), Platform: s("one"), Version: s("7.8.9"), Codename: s("Later"), Major: s("7"), Minor: s("8")}},
		"empty file": {"", releaseOS{Version: s("0.0")}},
	}
	for name, tc := range cases {
		if got := parseOSRelease([]byte(tc.file)); got != tc.want {
			t.Errorf("%s:\n got %+v\nwant %+v", name, got, tc.want)
		}
	}
}

// FuzzParseOSRelease: any file parses without a panic, and the version never
// keeps the " (" that starts a codename.
func FuzzParseOSRelease(f *testing.F) {
	f.Add([]byte("NAME=\"Ubuntu\"\nVERSION=\"24.04.1 LTS (Noble Numbat)\"\nID=ubuntu\n"))
	f.Add([]byte("VERSION=\"\nVERSION_ID=\"1\nID=\"\n"))
	f.Add([]byte("VERSION= (x\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		o := parseOSRelease(b)
		if !o.Version.Valid {
			t.Fatal("no version")
		}
		if v := o.Version.V; containsParen(v) {
			t.Fatalf("version %q keeps a codename", v)
		}
	})
}

func containsParen(v string) bool {
	for i := 0; i+1 < len(v); i++ {
		if v[i] == ' ' && v[i+1] == '(' {
			return true
		}
	}
	return false
}
