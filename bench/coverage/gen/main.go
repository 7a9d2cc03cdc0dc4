// Command gen writes the inventory exports bench/coverage/run.sh reconciles
// with a muster server seeded by bench/agents/seed: the host names match the
// seeded agents' (agent-000001, ...), so the sources overlap as real ones do.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"
)

func main() {
	n := flag.Int("n", 100000, "devices")
	dir := flag.String("dir", ".", "output folder")
	flag.Parse()
	now := time.Now().UTC()
	write := func(name string, fill func(w *bufio.Writer)) {
		f, err := os.Create(filepath.Join(*dir, name))
		if err != nil {
			log.Fatal(err)
		}
		w := bufio.NewWriterSize(f, 1<<20)
		fill(w)
		if err := w.Flush(); err != nil {
			log.Fatal(err)
		}
		if err := f.Close(); err != nil {
			log.Fatal(err)
		}
	}
	mac := func(i int) string {
		return fmt.Sprintf("00:1b:%02x:%02x:%02x:%02x", byte(i>>24), byte(i>>16), byte(i>>8), byte(i))
	}
	// The CMDB knows every device (plus 1% the manager does not), with serial and MAC.
	write("cmdb.csv", func(w *bufio.Writer) {
		fmt.Fprintln(w, "name,serial_number,mac_address,ip_address,os")
		for i := 1; i <= *n+*n/100; i++ {
			fmt.Fprintf(w, "agent-%06d,SN%08d,%s,10.%d.%d.%d,Debian GNU/Linux 12\n", i, i, mac(i), byte(i>>16), byte(i>>8), byte(i))
		}
	})
	// The RMM knows 90%, by FQDN and MAC, and says when it last saw each.
	write("rmm.json", func(w *bufio.Writer) {
		fmt.Fprintln(w, `{"devices": [`)
		first := true
		for i := 1; i <= *n; i++ {
			if i%10 == 0 {
				continue
			}
			if !first {
				fmt.Fprintln(w, ",")
			}
			first = false
			state := "online"
			if i%50 == 0 {
				state = "offline"
			}
			fmt.Fprintf(w, `{"id":"node-%d","host":"agent-%06d.corp.example","mac":%q,"state":%q,"seen":%q}`,
				i, i, mac(i), state, now.Add(-time.Duration(i%3600)*time.Second).Format(time.RFC3339))
		}
		fmt.Fprintln(w, "]}")
	})
	// The MDM knows 60%, by serial only.
	write("mdm.csv", func(w *bufio.Writer) {
		fmt.Fprintln(w, "device_id,serial,last_checkin")
		for i := 1; i <= *n; i++ {
			if i%10 < 6 {
				fmt.Fprintf(w, "mdm-%d,SN%08d,%s\n", i, i, now.Add(-time.Duration(i%7200)*time.Second).Format(time.RFC3339))
			}
		}
	})
}
