package manager_test

import (
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/muster-project/muster/internal/apitest"
	"github.com/muster-project/muster/internal/config"
)

// TestListenersFollowIPv6: with local_ip empty, remoted and authd listen on
// IPv4 only unless ipv6 is on; with it on, on both families.
func TestListenersFollowIPv6(t *testing.T) {
	haveV6 := false
	if ln, err := net.Listen("tcp6", "[::1]:0"); err == nil {
		haveV6 = true
		ln.Close()
	}
	for _, ipv6 := range []bool{false, true} {
		t.Run("ipv6="+strconv.FormatBool(ipv6), func(t *testing.T) {
			if ipv6 && !haveV6 {
				t.Skip("no ::1 on this machine")
			}
			e := apitest.Start(t)
			d := e.StartDaemons(func(c *config.Config) {
				c.Remote.LocalIP = ""
				c.Remote.IPv6 = config.Bool(ipv6)
			})
			if ua := d.Addrs["remote/udp"].(*net.UDPAddr); !ipv6 && ua.IP.To4() == nil {
				t.Errorf("remote/udp listens on %v, not IPv4", ua)
			}
			for _, name := range []string{"remote/tcp", "auth"} {
				port := strconv.Itoa(d.Addrs[name].(*net.TCPAddr).Port)
				dial := func(host string) error {
					c, err := net.DialTimeout("tcp", net.JoinHostPort(host, port), 5*time.Second)
					if err == nil {
						c.Close()
					}
					return err
				}
				if err := dial("127.0.0.1"); err != nil {
					t.Errorf("%s: 127.0.0.1: %v", name, err)
				}
				if !haveV6 {
					continue
				}
				err := dial("::1")
				if ipv6 && err != nil {
					t.Errorf("%s: [::1] refused with ipv6 on: %v", name, err)
				}
				if !ipv6 && err == nil {
					t.Errorf("%s: [::1] accepted with ipv6 off", name)
				}
			}
		})
	}
}
